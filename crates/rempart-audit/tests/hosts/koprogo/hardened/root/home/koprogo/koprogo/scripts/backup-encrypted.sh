#!/bin/bash
set -euo pipefail
STAMP=$(date +%Y%m%d_%H%M%S)
OUT=/home/koprogo/koprogo/backups/koprogo_${STAMP}.sql.gz.gpg
docker exec koprogo-postgres pg_dump -U koprogo koprogo_db | gzip -9 | gpg --batch --encrypt --recipient backup@koprogo.local > "$OUT"
s3cmd put --server-side-encryption "$OUT" s3://koprogo-backups/
find /home/koprogo/koprogo/backups -name 'koprogo_*.gpg' -mtime +7 -delete
