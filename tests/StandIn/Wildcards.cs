// WildcardPattern as PowerShell defines it (the subset the cmdlets use: *, ?, [set], backtick escapes).
using System.Text;
using System.Text.RegularExpressions;

namespace System.Management.Automation
{
    [Flags]
    public enum WildcardOptions
    {
        None = 0,
        Compiled = 1,
        IgnoreCase = 2,
        CultureInvariant = 4,
    }

    public sealed class WildcardPattern
    {
        private readonly Regex _regex;

        public WildcardPattern(string pattern) : this(pattern, WildcardOptions.None) { }

        public WildcardPattern(string pattern, WildcardOptions options)
        {
            var regex = new StringBuilder("^");
            for (int i = 0; i < pattern.Length; i++)
            {
                char c = pattern[i];
                switch (c)
                {
                    case '*': regex.Append(".*"); break;
                    case '?': regex.Append('.'); break;
                    case '`' when i + 1 < pattern.Length: regex.Append(Regex.Escape(pattern[++i].ToString())); break;
                    case '[':
                        int end = pattern.IndexOf(']', i + 1);
                        if (end < 0) goto default;
                        regex.Append('[').Append(pattern, i + 1, end - i - 1).Append(']');
                        i = end;
                        break;
                    default: regex.Append(Regex.Escape(c.ToString())); break;
                }
            }
            regex.Append('$');
            _regex = new Regex(regex.ToString(), (options & WildcardOptions.IgnoreCase) != 0 ? RegexOptions.IgnoreCase | RegexOptions.CultureInvariant : RegexOptions.CultureInvariant);
        }

        public bool IsMatch(string input) => input is not null && _regex.IsMatch(input);
    }
}
