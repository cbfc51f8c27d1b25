using System.Globalization;
using System.Security;
using System.Text;

namespace Eplb.Cli;

/// <summary>A line of text in the charts' SVG, escaped, with invariant number formatting.</summary>
internal static class SvgText
{
    public static void Append(StringBuilder sb, double x, double y, int size, string color, string text, bool bold = false, string anchor = "start") =>
        sb.Append(string.Create(CultureInfo.InvariantCulture,
            $"<text x=\"{x:0.#}\" y=\"{y:0.#}\" font-size=\"{size}\" fill=\"{color}\" text-anchor=\"{anchor}\"{(bold ? " font-weight=\"bold\"" : "")}>{SecurityElement.Escape(text)}</text>\n"));
}
