using System.Globalization;

namespace Advantage.Environments;

/// <summary>
/// An environment of a <see cref="VectorEnvironment"/> failed: it threw, or (with <see cref="VectorEnvironment.RequireFinite"/>)
/// produced a non-finite reward or observation. It says which slot, in which method and at which step of the episode,
/// because "an environment threw" among K of them, thousands of steps in, is not something a user can act on.
/// </summary>
public sealed class EnvironmentException : Exception
{
    /// <summary>Creates the exception; the message starts with the slot, the method and the step.</summary>
    /// <param name="slot">The environment's index in the vector.</param>
    /// <param name="method">Reset or Step.</param>
    /// <param name="step">For Step, the 1-based step of the episode; 0 for Reset.</param>
    /// <param name="problem">What went wrong, without the location.</param>
    /// <param name="inner">The environment's own exception, when it threw.</param>
    public EnvironmentException(int slot, EnvironmentMethod method, int step, string problem, Exception? inner = null)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"slot {slot}: {method}{(method == EnvironmentMethod.Step ? $" at step {step} of its episode" : "")} {problem}"), inner)
    {
        Slot = slot;
        Method = method;
        Step = step;
    }

    /// <summary>The environment's index in the vector.</summary>
    public int Slot { get; }

    /// <summary>Reset or Step.</summary>
    public EnvironmentMethod Method { get; }

    /// <summary>For Step, the 1-based step of the episode; 0 for Reset.</summary>
    public int Step { get; }
}
