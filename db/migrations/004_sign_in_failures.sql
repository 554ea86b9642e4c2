-- Failed sign-ins, one row each, by what they count against: an account
-- from one address, an address, an account. Kept in the database so that
-- `edge user unlock` reaches them and a restart does not forget them.
CREATE TABLE sign_in_failures (
  id  INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  at  INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_by_key ON sign_in_failures (key, at);
