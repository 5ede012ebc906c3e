using ScottPlot;

namespace Advantage.Bench;

/// <summary>Learning curves with ScottPlot: mean return of the last 100 episodes against steps, one line per seed, the target dashed.</summary>
internal static class EnvPlot
{
    public static void Write(string path, EnvPreset preset, long budget, IReadOnlyList<EnvBench.SeedResult> seeds)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < seeds.Count; i++)
        {
            var seed = seeds[i];
            if (seed.Curve.Count == 0) continue;
            double[] xs = seed.Curve.Select(c => (double)c.Steps).ToArray();
            double[] ys = seed.Curve.Select(c => c.MeanReturn100).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.Color = palette.GetColor(i);
            line.LineWidth = 2;
            line.LegendText = $"seed {seed.Seed} (final {seed.FinalMeanReturn100:F1})";
        }
        var target = plot.Add.HorizontalLine(preset.Target);
        target.LinePattern = LinePattern.Dashed;
        target.Color = Colors.Black;
        target.LineWidth = 1.5f;
        target.LegendText = $"target {preset.Target} ({preset.TargetRule})";
        plot.Axes.SetLimitsX(0, budget);
        plot.Title($"{preset.Algorithm.Algorithm.ToUpperInvariant()} on {preset.EnvironmentId}");
        plot.XLabel("environment steps");
        plot.YLabel("mean return, last 100 episodes");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 900, 560);
    }
}
