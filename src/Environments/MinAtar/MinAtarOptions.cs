namespace Advantage.Environments;

/// <summary>
/// Settings shared by the MinAtar games. Sticky actions are MinAtar's source of stochasticity (the
/// games are otherwise nearly deterministic), so experiments that want MinAtar's published setting
/// keep the default and experiments that want a deterministic game set it to 0.
/// </summary>
/// <param name="StickyActionProbability">
/// The probability, checked on every step, that the previous executed action is repeated instead of
/// the chosen one. Default 0.1, as MinAtar's <c>Environment</c>. Must lie in [0, 1].
/// </param>
public sealed record MinAtarOptions(double StickyActionProbability = MinAtarOptions.DefaultStickyActionProbability)
{
    /// <summary>MinAtar's default sticky-action probability, named so callers can refer to it.</summary>
    public const double DefaultStickyActionProbability = 0.1;

    /// <summary>The settings MinAtar's published results use.</summary>
    public static MinAtarOptions Default { get; } = new();

    /// <summary>The probability that the previous executed action repeats; in [0, 1].</summary>
    public double StickyActionProbability { get; } =
        StickyActionProbability is >= 0.0 and <= 1.0
            ? StickyActionProbability
            : throw new ArgumentOutOfRangeException(nameof(StickyActionProbability), StickyActionProbability,
                "MinAtarOptions.StickyActionProbability must lie in [0, 1].");

    /// <summary>A copy with another sticky-action probability; F# cannot use C#'s <c>with</c> on records.</summary>
    public MinAtarOptions WithStickyActionProbability(double probability) => new(probability);
}
