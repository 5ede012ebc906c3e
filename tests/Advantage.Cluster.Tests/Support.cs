using System.Globalization;
using System.Threading.Channels;
using Advantage.Actors;

namespace Advantage.Cluster.Tests;

/// <summary>Progress snapshots as they arrive, with bounded waits for a condition (no sleeps).</summary>
internal sealed class ProgressLog
{
    private readonly Channel<TrainingProgress> channel = Channel.CreateUnbounded<TrainingProgress>();

    public TrainingProgress? Last { get; private set; }

    public void Add(TrainingProgress progress) => channel.Writer.TryWrite(progress);

    /// <summary>The first snapshot (from now on) that satisfies <paramref name="condition"/>; fails after <paramref name="timeout"/>.</summary>
    public async Task<TrainingProgress> WaitFor(Func<TrainingProgress, bool> condition, TimeSpan timeout, string what)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var p = await channel.Reader.ReadAsync(cancel.Token);
                Last = p;
                if (condition(p)) return p;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Waited {timeout.TotalSeconds:F0} s for {what}; last progress: {Last}");
        }
    }
}

/// <summary>The learner's machine-readable progress lines ("progress steps=... version=... workers=..."), parsed.</summary>
internal static class ProgressLine
{
    public static TrainingProgress? Parse(string line)
    {
        if (!line.StartsWith("progress ", StringComparison.Ordinal)) return null;
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => f.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
        long L(string key) => long.Parse(fields[key], CultureInfo.InvariantCulture);
        double D(string key) => fields[key] == "nan" ? double.NaN : double.Parse(fields[key], CultureInfo.InvariantCulture);
        return new TrainingProgress(L("steps"), D("seconds"), D("steps_per_second"), L("episodes"), D("mean_return"), L("version"), (int)L("workers"), L("rejected"), L("restarts"), null);
    }
}
