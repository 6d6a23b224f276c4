#!/bin/bash
OUT=/root/backups
mkdir -p $OUT
mysqldump -u root -p'raspberry' observations > $OUT/db-$(date +%F).sql
tar -czf $OUT/media-$(date +%F).tar.gz /home/jmadmin/observations/media
# Optionnel : chiffrer avec gpg et envoyer hors-site
