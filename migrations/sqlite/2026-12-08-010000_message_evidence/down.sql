DROP TABLE message_evidence;
