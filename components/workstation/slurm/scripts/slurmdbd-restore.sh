#!/usr/bin/env bash
# aihpc: restore the Slurm accounting database from a dump made by
# aihpc-slurmdbd-backup (installed as /usr/local/sbin/aihpc-slurmdbd-restore).
#   aihpc-slurmdbd-restore /var/backups/aihpc-slurm-accounting/slurm_acct_db-<time>.sql.gz
# Stops slurmdbd (and slurmctld when it runs here: it queues its records and
# sends them once slurmdbd is back), replaces the database with the dump, and
# starts them again. Jobs keep running throughout.
set -euo pipefail
DB="${DB:-slurm_acct_db}"
file="${1:?usage: aihpc-slurmdbd-restore DUMP.sql.gz}"
[ -f "$file" ] || { echo "aihpc-slurmdbd-restore: no such file: $file" >&2; exit 1; }
gzip -t "$file" || { echo "aihpc-slurmdbd-restore: $file is not a complete gzip file" >&2; exit 1; }
# (grep -q stops reading early: zcat's SIGPIPE must not count under pipefail.)
{ zcat "$file" || true; } | grep -q "^CREATE DATABASE .*\`$DB\`" || { echo "aihpc-slurmdbd-restore: $file is not a dump of database $DB" >&2; exit 1; }
ctld=0
if systemctl is-active --quiet slurmctld.service; then ctld=1; systemctl stop slurmctld.service; fi
systemctl stop slurmdbd.service
mariadb -e "DROP DATABASE IF EXISTS \`$DB\`"
zcat "$file" | mariadb
echo "aihpc-slurmdbd-restore: restored $DB from $file"
systemctl start slurmdbd.service
[ "$ctld" = 0 ] || systemctl start slurmctld.service
