package jobs

// TempPrefix begins the name of every file and folder jobs make in their
// TempDir, so that what a stop cut short can be told from what else is
// there (edge empties only these at start).
const TempPrefix = "edge-"
