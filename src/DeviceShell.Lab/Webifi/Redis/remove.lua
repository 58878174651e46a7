-- Ends a session everywhere. KEYS[1]: its record. ARGV: device id.
remove(ARGV[1])
return 0
