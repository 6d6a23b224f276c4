#!/bin/sh
set -eu
out=/backups/avmvp_$(date +%Y%m%d).sql.gz.age
pg_dump avmvp_db | gzip | age -r age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p > "$out"
rclone copy "$out" offsite:avmvp-backups/
find /backups -name 'avmvp_*.sql.gz.age' -mtime +30 -delete
