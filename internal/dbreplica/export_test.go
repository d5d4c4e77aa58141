package dbreplica

// Quoting functions, for tests that run their output through bash and a real server.
var (
	ShellQuote = shellQuote
	SQLString  = sqlString
)
