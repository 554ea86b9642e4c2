-- A stream made from a URL: edge downloads its source from there (and
-- takes the download up again after a restart while it is 'uploading').
ALTER TABLE streams ADD COLUMN import_url TEXT NOT NULL DEFAULT '';
