namespace Advantage.Actors;

/// <summary>
/// The run's episode count and the undiscounted returns of its last <c>size</c> episodes, whose mean is what
/// progress reports and the target compares against. Kept apart from the learner so it can be checked alone
/// and restored from a checkpoint.
/// </summary>
internal sealed class ReturnWindow
{
    private readonly double[] window;
    private int next;
    private double sum;

    public ReturnWindow(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        window = new double[size];
    }

    /// <summary>Episodes finished in the run (a resumed run continues the count).</summary>
    public long Episodes { get; private set; }

    /// <summary>Returns currently in the window.</summary>
    public int Count { get; private set; }

    /// <summary>The window's capacity.</summary>
    public int Size => window.Length;

    /// <summary>Mean of the returns in the window; NaN before the first episode.</summary>
    public double Mean => Count == 0 ? double.NaN : sum / Count;

    /// <summary>Counts one finished episode.</summary>
    public void Add(double episodeReturn)
    {
        Episodes++;
        Push(episodeReturn);
    }

    /// <summary>Continues a resumed run: its episode count and (the newest of) its recent returns, oldest first.</summary>
    public void Restore(long episodes, IReadOnlyList<double> recentReturns)
    {
        ArgumentNullException.ThrowIfNull(recentReturns);
        Episodes = episodes;
        foreach (double r in recentReturns.Skip(Math.Max(0, recentReturns.Count - window.Length))) Push(r);
    }

    /// <summary>The window's returns, oldest first.</summary>
    public double[] Recent()
    {
        var result = new double[Count];
        int start = Count == window.Length ? next : 0;
        for (int i = 0; i < Count; i++) result[i] = window[(start + i) % window.Length];
        return result;
    }

    private void Push(double value)
    {
        if (Count == window.Length) sum -= window[next];
        else Count++;
        window[next] = value;
        sum += value;
        next = (next + 1) % window.Length;
    }
}
