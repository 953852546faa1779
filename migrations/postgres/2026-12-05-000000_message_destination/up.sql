-- Where an outbound message goes when not to its partner's AS2 URL: a certificate
-- exchange response goes to the ResponseURL of the request it answers.
ALTER TABLE messages ADD COLUMN destination_url TEXT;
