-- The tus upload a stream waits for, so a finished upload whose hand-over
-- failed (a crash, a full disk) is found and handed over again.
ALTER TABLE streams ADD COLUMN upload_id TEXT NOT NULL DEFAULT '';
