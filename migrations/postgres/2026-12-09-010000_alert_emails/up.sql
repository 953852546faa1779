-- Issue 15 (alerts): where a tenant's email alerts go, one address per line (NULL: none).
ALTER TABLE tenants ADD COLUMN alert_emails TEXT;
