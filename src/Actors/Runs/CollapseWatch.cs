using System.Globalization;

namespace Advantage.Actors;

/// <summary>
/// Notices a policy that has collapsed: its entropy has stayed near zero for <see cref="Patience"/> updates in a row while
/// the mean return has fallen at least halfway from the best it reached. Measured on PPO with a shared trunk (CartPole,
/// seed 1): entropy 4e-6 and a mean of 9.3 from 101k steps to the 1M budget, with nothing in the run saying so. A
/// deterministic categorical policy gets no gradient without an entropy bonus, so such a run does not come back.
/// </summary>
internal sealed class CollapseWatch
{
    /// <summary>Entropy below this counts as near zero (a two-action policy at 99.9% on one action has 0.0079).</summary>
    public const double EntropyThreshold = 0.01;

    /// <summary>Consecutive near-zero updates before the run is called collapsed.</summary>
    public const int Patience = 20;

    private double best = double.NaN;
    private int lowUpdates;

    /// <summary>What was seen when the collapse was noticed; null while none was.</summary>
    public (long Steps, double Entropy, double BestMeanReturn, double MeanReturn)? Collapse { get; private set; }

    /// <summary>Takes one update; returns true the first time it notices a collapse.</summary>
    public bool Observe(long steps, double meanReturn, double entropy)
    {
        if (!double.IsNaN(meanReturn) && (double.IsNaN(best) || meanReturn > best)) best = meanReturn;
        if (Collapse is not null) return false;
        lowUpdates = entropy < EntropyThreshold ? lowUpdates + 1 : 0;
        if (lowUpdates < Patience || double.IsNaN(best) || double.IsNaN(meanReturn)) return false;
        double fall = best - meanReturn;
        if (fall <= 0 || fall < 0.5 * Math.Abs(best)) return false;
        Collapse = (steps, entropy, best, meanReturn);
        return true;
    }

    /// <summary>One line for the console and logs.</summary>
    public string Describe() => Collapse is { } c
        ? string.Create(CultureInfo.InvariantCulture,
            $"The policy collapsed: entropy {c.Entropy:G3} for {Patience} updates while the mean return fell from {c.BestMeanReturn:0.##} to {c.MeanReturn:0.##} (at {c.Steps:N0} steps); best.ckpt (with --eval-every) keeps the better model.")
        : "";
}
