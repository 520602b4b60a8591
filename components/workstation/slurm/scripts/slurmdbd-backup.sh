#!/usr/bin/env bash
# aihpc: dump the Slurm accounting database (installed as
# /usr/local/sbin/aihpc-slurmdbd-backup, run nightly by
# aihpc-slurmdbd-backup.timer). One consistent snapshot without locking
# slurmdbd out (--single-transaction: the tables are InnoDB), gzipped into
# BACKUP_DIR, then only the newest BACKUP_KEEP dumps are kept.
# Restore: aihpc-slurmdbd-restore FILE (see the README).
set -euo pipefail
umask 077
: "${BACKUP_DIR:?}" "${BACKUP_KEEP:?}" "${DB:=slurm_acct_db}"
install -d -m 0700 "$BACKUP_DIR"
name="$DB-$(date -u +%Y%m%dT%H%M%SZ).sql.gz"
tmp="$BACKUP_DIR/.$name.partial"
trap 'rm -f "$tmp"' EXIT
mysqldump --single-transaction --routines --databases "$DB" | gzip -9 >"$tmp"
mv "$tmp" "$BACKUP_DIR/$name"
echo "aihpc-slurmdbd-backup: wrote $BACKUP_DIR/$name ($(stat -c %s "$BACKUP_DIR/$name") bytes)"
# Newest first (the names sort by time); everything after BACKUP_KEEP goes.
find "$BACKUP_DIR" -maxdepth 1 -name "$DB-*.sql.gz" -printf '%f\n' | sort -r | tail -n +"$((BACKUP_KEEP + 1))" | while read -r old; do
  rm -f "$BACKUP_DIR/$old" && echo "aihpc-slurmdbd-backup: removed old $old"
done
