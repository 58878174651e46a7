# Points the design-note and issue references in src/ and tests/ at the documents in docs/design/.
# Rules match the text of each reference, not line numbers, so they still apply after the files move
# or change; running the script twice changes nothing. From the repository root, with GNU sed:
#
#   git grep -lE '§|[Ii]ssues? [0-9]' -- src tests | xargs sed -E -i -f docs/design/references.sed
#   git grep -nE '§|[Ii]ssues? [0-9]' -- src tests | grep -v 'docs/design/'
#
# The second command lists what is left: only references outside the project (an RFC) should remain.
# docs/design/REFERENCES.txt lists every reference this script changes, as file:line at the time it was written.

# A citation that named the wrong section: the bindings' error codes are in §6.
s#Tinkerforge bindings \(bricks-tfp\.md §5\)#Tinkerforge bindings (docs/design/bricks-tfp.md §6)#g
# Citations of the unknowns without a section.
s#UNKNOWN \(webifi\.md\)#UNKNOWN (docs/design/webifi.md §10)#g
s#UNKNOWN, webifi\.md\)#UNKNOWN, docs/design/webifi.md §10)#g
# The .proto files named the notes' old folder.
s#specs/(bricks-tfp|gateway-connect|webifi|pilink-tcpcom|cmdlets|powershell-style)\.md#docs/design/\1.md#g
# Every other section reference: the same file name and section, now in docs/design/.
s#(^|[^/A-Za-z-])(bricks-tfp|gateway-connect|webifi|pilink-tcpcom|cmdlets|powershell-style)\.md §#\1docs/design/\2.md §#g

# Issue references: the decision each one relies on, in docs/design/decisions.md.
s#\(issue 12, finding ([0-9])\)#(docs/design/decisions.md §12.\1)#g
s#Issue 12, findings 3, 4 and 7:#docs/design/decisions.md §12.3, §12.4 and §12.7:#g
s#Issue 12 finding ([0-9]):#docs/design/decisions.md §12.\1:#g
s#Issue 12 against the Pi link servers:#docs/design/decisions.md §12.1 and §12.2, against the Pi link servers:#g
s#exposed use \(issue 12\)#exposed use (docs/design/decisions.md §12)#g
s#for ever \(issue 12\)#for ever (docs/design/decisions.md §12.2)#g
s#past this \(issue 12\)#past this (docs/design/decisions.md §12.1)#g
s#SERVER_OCCUPIED kept \(issue 13\)#SERVER_OCCUPIED kept (docs/design/decisions.md §13.5)#g
s#\(issue 13: round trips#(docs/design/decisions.md §13.1: round trips#g
s#\(issue 13: (small|about 100 KiB)#(docs/design/decisions.md §13.4: \1#g
s#Issue 13: connect reports#docs/design/decisions.md §13.5: connect reports#g
s#Issue 13: under a flood#docs/design/decisions.md §13.2: under a flood#g
s#Issue 11: the worlds#docs/design/decisions.md §11: the worlds#g
s#\(issue 14, part 1\)#(docs/design/decisions.md §14.1)#g
