// Reads a private key on stdin with the parser the command provider calls on
// connection.privateKey (golang.org/x/crypto/ssh.ParsePrivateKey, at the
// version pulumi-command v1.2.1's go.mod pins) and prints its public key as an
// authorized_keys line: tools/provider-key/check.sh compares it with OpenSSH's.
package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/crypto/ssh"
)

func main() {
	pem, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ssh.ParsePrivateKey:", err)
		os.Exit(1)
	}
	fmt.Print(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
}
