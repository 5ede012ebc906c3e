using System.Globalization;

namespace Advantage.Bench;

/// <summary>The benchmarks' <c>--seeds 1,2,3</c>.</summary>
internal static class SeedList
{
    /// <summary>The seeds, or null after saying on stderr what is wrong with the text.</summary>
    public static int[]? Parse(string text)
    {
        try
        {
            return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            Console.Error.WriteLine($"--seeds must be comma-separated integers; got '{text}'.");
            return null;
        }
    }
}
