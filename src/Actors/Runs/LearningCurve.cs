using ScottPlot;

namespace Advantage.Actors;

/// <summary>Draws a run's learning curve: every episode's return as faint dots, and the mean of the return window as a line, against steps.</summary>
internal static class LearningCurve
{
    /// <summary>The curve as PNG bytes (900 x 500).</summary>
    public static byte[] Png(string title, IReadOnlyList<(long Steps, double Return)> episodes, int window)
    {
        var plot = new Plot();
        if (episodes.Count > 0)
        {
            double[] xs = episodes.Select(e => (double)e.Steps).ToArray();
            double[] ys = episodes.Select(e => e.Return).ToArray();
            var dots = plot.Add.ScatterPoints(xs, ys);
            dots.MarkerSize = 2;
            dots.Color = Colors.SteelBlue.WithAlpha(0.25);
            dots.LegendText = "episode return";

            var means = new double[ys.Length];
            double sum = 0;
            for (int i = 0; i < ys.Length; i++)
            {
                sum += ys[i];
                if (i >= window) sum -= ys[i - window];
                means[i] = sum / Math.Min(i + 1, window);
            }
            var line = plot.Add.ScatterLine(xs, means);
            line.LineWidth = 2;
            line.Color = Colors.OrangeRed;
            line.LegendText = $"mean of last {window} episodes";
            plot.ShowLegend(Alignment.UpperLeft);
        }
        plot.Title(title);
        plot.XLabel("environment steps");
        plot.YLabel("return");
        return plot.GetImageBytes(900, 500, ImageFormat.Png);
    }
}
