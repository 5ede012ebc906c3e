using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Advantage.Bench;

/// <summary>
/// Writes README's Results section from the benchmark JSON files (<c>bench/measure.sh</c> re-measures them all), so
/// every number there comes from a command, with the command and the date beside it. The section is the text
/// between <c>&lt;!-- results:begin --&gt;</c> and <c>&lt;!-- results:end --&gt;</c>.
/// </summary>
public static class ResultsReport
{
    private const string Begin = "<!-- results:begin -->", End = "<!-- results:end -->";

    public static int Run(string resultsFolder, string readme)
    {
        string markdown = Render(resultsFolder);
        string text = File.ReadAllText(readme);
        int a = text.IndexOf(Begin, StringComparison.Ordinal), b = text.IndexOf(End, StringComparison.Ordinal);
        if (a < 0 || b < a)
        {
            Console.Error.WriteLine($"{readme} has no {Begin} ... {End} block to replace.");
            return 2;
        }
        File.WriteAllText(readme, text[..(a + Begin.Length)] + "\n" + markdown + text[b..]);
        Console.WriteLine($"Wrote the Results section of {readme} from {resultsFolder}.");
        return 0;
    }

    private static JsonElement? Load(string path) =>
        File.Exists(path) ? JsonDocument.Parse(File.ReadAllText(path)).RootElement : null;

    private static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value, int digits) => value.ToString("F" + digits, CultureInfo.InvariantCulture);

    private static string When(JsonElement machine) =>
        $"{machine.GetProperty("timestamp").GetString()?[..10]}, commit {machine.GetProperty("commit").GetString()}, load average before {machine.GetProperty("load_average_before").GetString()}";

    public static string Render(string folder)
    {
        var md = new StringBuilder();
        md.AppendLine("Every figure below is written by `bash bench/measure.sh` (which runs the commands named with each table, then");
        md.AppendLine("`bench report`) from the JSON files in `bench/results/`; the date, commit and load average are those of the measurement.");
        md.AppendLine("This is a shared 2-core machine: single runs vary by up to 30 %, so compare only interleaved or back-to-back figures.");
        md.AppendLine();

        if (Load(Path.Combine(folder, "main.json")) is { } main)
        {
            md.AppendLine($"**CartPole-v1, the main job** (`dotnet run -c Release --project src/Cli`, seed {main.GetProperty("seed").GetInt32()}, " +
                $"{main.GetProperty("workers").GetInt32()} workers x {main.GetProperty("envs_per_worker").GetInt32()} environments; measured {main.GetProperty("finished_utc").GetString()?[..10]}): " +
                $"{(main.GetProperty("solved").GetBoolean() ? "solved" : "NOT solved")} at **{N(main.GetProperty("steps").GetInt64())} steps in " +
                $"{F(main.GetProperty("wall_seconds").GetDouble(), 2)} s** of training, {N(main.GetProperty("steps_per_second").GetDouble())} steps/s.");
            md.AppendLine();
        }

        if (Load(Path.Combine(folder, "solve.json")) is { } solve)
        {
            md.AppendLine($"**Time to solve CartPole-v1, seeds 1-5** (`dotnet run -c Release --project bench/Advantage.Bench -- solve`: train's options and defaults; {When(solve.GetProperty("machine"))}):");
            md.AppendLine();
            md.AppendLine("| seed | solved | steps | seconds |");
            md.AppendLine("|---:|---|---:|---:|");
            foreach (var s in solve.GetProperty("seeds").EnumerateArray())
                md.AppendLine($"| {s.GetProperty("seed").GetInt32()} | {(s.GetProperty("solved").GetBoolean() ? "yes" : "no")} | {N(s.GetProperty("steps").GetInt64())} | {F(s.GetProperty("seconds").GetDouble(), 2)} |");
            md.AppendLine();
            md.AppendLine($"{solve.GetProperty("solved_count").GetInt32()} of {solve.GetProperty("seeds").GetArrayLength()} solved; median " +
                $"{(solve.GetProperty("median_seconds").ValueKind == JsonValueKind.Number ? F(solve.GetProperty("median_seconds").GetDouble(), 2) + " s" : "n/a")} and " +
                $"{(solve.GetProperty("median_steps").ValueKind == JsonValueKind.Number ? N(solve.GetProperty("median_steps").GetDouble()) : "n/a")} steps.");
            md.AppendLine();
        }

        if (Load(Path.Combine(folder, "e2e.json")) is { } e2e)
        {
            md.AppendLine($"**Throughput** (`dotnet run -c Release --project bench/Advantage.Bench -- e2e`, CartPole-v1, rollout 5; {When(e2e.GetProperty("machine"))}):");
            md.AppendLine();
            md.AppendLine("| workers x envs | env-steps/s | updates/s |");
            md.AppendLine("|---|---:|---:|");
            foreach (var c in e2e.GetProperty("cells").EnumerateArray())
                md.AppendLine($"| {c.GetProperty("workers").GetInt32()} x {c.GetProperty("envs_per_worker").GetInt32()} | {N(c.GetProperty("steps_per_second").GetDouble())} | {N(c.GetProperty("updates_per_second").GetDouble())} |");
            md.AppendLine();
        }

        foreach (var (file, title) in new[] { ("cluster.json", "2 worker processes x 16 environments, rollout 5"), ("cluster-32x20.json", "2 worker processes x 32 environments, rollout 20") })
        {
            if (Load(Path.Combine(folder, file)) is not { } cluster) continue;
            var sides = cluster.GetProperty("sides").EnumerateArray().ToList();
            double inProcess = sides.First(s => s.GetProperty("mode").GetString() == "in-process").GetProperty("steps_per_second").GetDouble();
            md.AppendLine($"**Cluster, {title}** (`bench cluster`, [`bench/results/{file}`](bench/results/{file}); medians of interleaved repeats; {When(cluster.GetProperty("machine"))}):");
            md.AppendLine();
            md.AppendLine("| mode | env-steps/s | updates/s | vs in-process |");
            md.AppendLine("|---|---:|---:|---:|");
            foreach (var s in sides)
                md.AppendLine($"| {s.GetProperty("mode").GetString()} | {N(s.GetProperty("steps_per_second").GetDouble())} | {N(s.GetProperty("updates_per_second").GetDouble())} | " +
                    $"{F(100 * s.GetProperty("steps_per_second").GetDouble() / inProcess, 0)} % |");
            md.AppendLine();
            md.AppendLine($"{N(cluster.GetProperty("bytes_per_rollout").GetInt64())} bytes per rollout and {N(cluster.GetProperty("bytes_per_parameter_broadcast").GetInt64())} per parameter message " +
                $"({N(cluster.GetProperty("parameters").GetInt64())} parameters).");
            md.AppendLine();
        }

        if (Load(Path.Combine(folder, "envs", "envs.json")) is { } envs)
        {
            md.AppendLine("**Learning quality** (`dotnet run -c Release --project bench/Advantage.Bench -- envs --seeds 1,2,3`; mean of the last 100 episodes at the end of the budget):");
            md.AppendLine();
            md.AppendLine("| environment | budget | target | seeds | measured |");
            md.AppendLine("|---|---:|---|---|---|");
            foreach (var env in envs.GetProperty("environments").EnumerateObject())
            {
                var e = env.Value;
                string seeds = string.Join(", ", e.GetProperty("seeds").EnumerateArray().Select(s => $"{s.GetProperty("seed").GetInt32()}: {F(s.GetProperty("final_mean_return100").GetDouble(), 1)}"));
                md.AppendLine($"| {env.Name} | {N(e.GetProperty("budget").GetInt64())} | >= {e.GetProperty("target").GetDouble().ToString(CultureInfo.InvariantCulture)}, {e.GetProperty("target_rule").GetString()} | {seeds} | {When(e.GetProperty("machine"))} |");
            }
            md.AppendLine();
        }
        return md.ToString();
    }
}
