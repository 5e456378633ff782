"""Operations: backups and restores of the portal database."""
