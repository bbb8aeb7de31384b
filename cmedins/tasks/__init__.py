"""The six CMedINS tasks: record -> instruction/query/answer rows, from a versioned template bank."""
