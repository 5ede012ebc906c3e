using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Advantage.Learning;

namespace Advantage.Cli;

/// <summary>
/// Every training flag as Markdown tables, made from the same definitions as the flags themselves (<see cref="TrainingFlags"/>,
/// <see cref="AlgorithmOptions.CommonOptions"/>, each descriptor's <see cref="AlgorithmDescriptor.Options"/>):
/// <c>advantage-train --help-markdown</c> prints it, and README.md carries it between <see cref="Begin"/> and <see cref="End"/>,
/// where a test compares it with what the definitions make, so the README's list cannot drift from the flags.
/// </summary>
internal static partial class FlagReference
{
    /// <summary>The markers around the generated block in README.md.</summary>
    public const string Begin = "<!-- flags:begin -->", End = "<!-- flags:end -->";

    /// <summary>The algorithms the README documents: those this library registers, never a user's or a test's.</summary>
    public static IReadOnlyList<AlgorithmDescriptor> Builtin =>
        Algorithms.All.Where(d => d.OptionsType.Assembly == typeof(AlgorithmOptions).Assembly).ToArray();

    /// <summary>
    /// The tables: the algorithms' options with each algorithm's default on <see cref="TrainingFlags.DefaultEnvironment"/>
    /// (or <c>-</c> where the flag is not the algorithm's), then the run's own flags with their defaults.
    /// </summary>
    /// <param name="algorithms">The algorithms to document, one column each.</param>
    public static string Markdown(IReadOnlyList<AlgorithmDescriptor> algorithms)
    {
        ArgumentNullException.ThrowIfNull(algorithms);
        var flags = new TrainingFlags(null, algorithms);
        string env = TrainingFlags.DefaultEnvironment;
        var presets = algorithms.Select(d => d.Preset(env)).ToArray();
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"The algorithms' options. A cell is that algorithm's default on {env} (its preset; other environments' presets differ, and `--help` after `--algo X` shows X's); `-` marks a flag the algorithm does not take, which is refused with that `--algo`.\n\n");
        s.Append("| flag | ").Append(string.Join(" | ", algorithms.Select(d => d.Name))).Append(" | what it sets |\n");
        s.Append("|---|").Append(string.Concat(algorithms.Select(_ => "---|"))).Append("---|\n");
        foreach (var (option, definition, owners) in flags.AlgorithmFlags)
        {
            var cells = algorithms.Select((d, k) =>
                owners.Count > 0 && !owners.Contains(d.Name) ? "-"
                : definition.SwitchValue is { } on ? (Equals(definition.Get(presets[k]), on) ? "on" : "off")
                : Value(definition.Format(definition.Get(presets[k]))));
            string range = definition.Range is not { } r ? "" : definition.ValueType == typeof(IReadOnlyList<int>) ? $", each in {r}" : $", in {r}";
            s.Append(CultureInfo.InvariantCulture, $"| `{option.Name}` | {string.Join(" | ", cells)} | {Cell(definition.Help + range)} |\n");
        }
        s.Append("\nThe run's own options, the same for every algorithm:\n\n");
        s.Append("| flag | default | what it sets |\n|---|---|---|\n");
        foreach (var option in flags.RunFlags)
        {
            string description = option.Description ?? "";
            string shown;
            if (DefaultSuffix().Match(description) is { Success: true } stated)
            {
                shown = stated.Groups[1].Value;
                description = description[..stated.Index];
            }
            else if (option.HasDefaultValue && option.GetDefaultValue() is { } value and not bool)
            {
                shown = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
            }
            else
            {
                shown = option.ValueType == typeof(bool) ? "off" : "none";
            }
            s.Append(CultureInfo.InvariantCulture, $"| `{option.Name}` | {Value(shown)} | {Cell(description)} |\n");
        }
        return s.ToString();
    }

    /// <summary>The text between the markers of <paramref name="readme"/>, or null when it has no such block.</summary>
    public static string? Block(string readme)
    {
        ArgumentNullException.ThrowIfNull(readme);
        int begin = readme.IndexOf(Begin, StringComparison.Ordinal), end = readme.IndexOf(End, StringComparison.Ordinal);
        if (begin < 0 || end < begin) return null;
        return readme[(begin + Begin.Length)..end].Trim('\n');
    }

    /// <summary><paramref name="readme"/> with <paramref name="markdown"/> between the markers.</summary>
    /// <exception cref="InvalidOperationException">The README has no block to replace.</exception>
    public static string WithBlock(string readme, string markdown)
    {
        ArgumentNullException.ThrowIfNull(readme);
        ArgumentNullException.ThrowIfNull(markdown);
        int begin = readme.IndexOf(Begin, StringComparison.Ordinal), end = readme.IndexOf(End, StringComparison.Ordinal);
        if (begin < 0 || end < begin) throw new InvalidOperationException($"README has no {Begin} ... {End} block.");
        return readme[..(begin + Begin.Length)] + "\n" + markdown.Trim('\n') + "\n" + readme[end..];
    }

    /// <summary>Text safe inside a Markdown table cell: no column break, no tag.</summary>
    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);

    /// <summary>A value for a table cell; one with angle brackets (<c>runs/&lt;env&gt;</c>) as code, so it reads the same raw and rendered.</summary>
    private static string Value(string text) => text.Contains('<', StringComparison.Ordinal) && !text.Contains('`', StringComparison.Ordinal) ? $"`{text.Replace("|", "\\|", StringComparison.Ordinal)}`" : Cell(text);

    [GeneratedRegex(@"\s*\[default: (.*)\]$")]
    private static partial Regex DefaultSuffix();
}
