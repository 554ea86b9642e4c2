-- What a content team should know about a stream that is ready but not
-- as its source promised (cut short, decode errors): shown on its page
-- and in the API.
ALTER TABLE streams ADD COLUMN warning TEXT NOT NULL DEFAULT '';
