package storage

// ReadThroughSDK makes s read objects through the SDK's own GetObject, the
// path taken for endpoints the signed GETs do not serve.
func ReadThroughSDK(s *S3Store) { s.gets = nil }

// SignsGets says whether s reads objects with its own signed GETs.
func SignsGets(s *S3Store) bool { return s.gets != nil }
