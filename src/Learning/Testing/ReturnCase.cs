using System.Globalization;
using System.Text;

namespace Advantage.Learning.Testing;

/// <summary>
/// One generated test case for return code: a rollout plus the discount and GAE lambda to use on it.
/// A record so FsCheck can print a counterexample and a property can vary one part of it.
/// </summary>
/// <param name="Inputs">The rollout, laid out as <see cref="Returns"/> expects.</param>
/// <param name="Gamma">Discount in [0, 1].</param>
/// <param name="Lambda">GAE lambda in [0, 1].</param>
public sealed record ReturnCase(ReturnInputs Inputs, double Gamma, double Lambda)
{
    /// <summary><c>T</c>, the number of time steps.</summary>
    public int Steps => Inputs.Steps;

    /// <summary><c>N</c>, the number of environment columns.</summary>
    public int Envs => Inputs.Envs;

    /// <summary>A copy with another rollout, for laws that transform the inputs and keep the discounts.</summary>
    public ReturnCase WithInputs(ReturnInputs inputs) => this with { Inputs = inputs };

    /// <summary>A copy with another discount.</summary>
    public ReturnCase WithGamma(double gamma) => this with { Gamma = gamma };

    /// <summary>A copy with another GAE lambda.</summary>
    public ReturnCase WithLambda(double lambda) => this with { Lambda = lambda };

    /// <summary>
    /// The case restricted to (or reordered by) the given columns, in that order: the columns are
    /// independent, so any selection is again a valid case; used by shrinking and by the permutation law.
    /// </summary>
    /// <param name="columns">Column indices of this case, each in [0, Envs); repeats allowed.</param>
    public ReturnCase SelectColumns(IReadOnlyList<int> columns) =>
        WithInputs(ReturnLayout.SelectColumns(Inputs, columns));

    /// <summary>
    /// The steps <c>[start, start + count)</c> of the rollout, bootstrapped from <c>V(s_{start+count})</c>
    /// (the next row's values, or the original bootstrap row), so it is again a valid case.
    /// </summary>
    public ReturnCase SelectSteps(int start, int count) =>
        WithInputs(ReturnLayout.SelectSteps(Inputs, start, count));

    /// <summary>A table of the case, one line per step, so a failing property shows what it ran on.</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.Append(c, $"ReturnCase(T {Steps}, N {Envs}, gamma {Gamma:R}, lambda {Lambda:R})");
        for (int t = 0; t < Steps; t++)
        {
            s.Append(c, $"\n  t {t}:");
            for (int n = 0; n < Envs; n++)
            {
                int i = t * Envs + n;
                string flag = Inputs.Terminated[i] ? (Inputs.Truncated[i] ? " term+trunc" : " term")
                    : Inputs.Truncated[i] ? string.Create(c, $" trunc final {Inputs.FinalValues[i]:R}") : "";
                s.Append(c, $"  [r {Inputs.Rewards[i]:R} V {Inputs.Values[i]:R}{flag}]");
            }
        }
        s.Append("\n  bootstrap:");
        foreach (float v in Inputs.BootstrapValues) s.Append(c, $" {v:R}");
        return s.ToString();
    }
}

/// <summary>
/// Helpers for the time-major <c>[T, N]</c> layout (<c>t * N + n</c>), so laws about columns and steps
/// can rearrange inputs and outputs the same way.
/// </summary>
public static class ReturnLayout
{
    /// <summary>Picks columns of a <c>[T, N]</c> array, in the order given.</summary>
    /// <param name="data">The <c>[steps, envs]</c> array.</param>
    /// <param name="steps"><c>T</c>.</param>
    /// <param name="envs"><c>N</c>.</param>
    /// <param name="columns">Column indices in [0, envs).</param>
    /// <returns>A new <c>[steps, columns.Count]</c> array.</returns>
    public static T[] SelectColumns<T>(T[] data, int steps, int envs, IReadOnlyList<int> columns)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(columns);
        if (data.Length != steps * envs)
            throw new ArgumentException($"{nameof(data)} must have steps * envs = {steps * envs} elements; got {data.Length}.", nameof(data));
        foreach (int col in columns)
            if (col < 0 || col >= envs)
                throw new ArgumentOutOfRangeException(nameof(columns), col, $"Every column must be in [0, {envs}); got {col}.");
        int width = columns.Count;
        var result = new T[steps * width];
        for (int t = 0; t < steps; t++)
            for (int k = 0; k < width; k++)
                result[t * width + k] = data[t * envs + columns[k]];
        return result;
    }

    /// <summary>Picks columns of every array of a rollout, in the order given.</summary>
    /// <param name="inputs">The rollout.</param>
    /// <param name="columns">Column indices in [0, Envs), at least one.</param>
    public static ReturnInputs SelectColumns(ReturnInputs inputs, IReadOnlyList<int> columns)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count < 1) throw new ArgumentException($"{nameof(columns)} must name at least one column.", nameof(columns));
        int steps = inputs.Steps, envs = inputs.Envs;
        return new ReturnInputs(steps, columns.Count,
            SelectColumns(inputs.Rewards, steps, envs, columns),
            SelectColumns(inputs.Values, steps, envs, columns),
            SelectColumns(inputs.BootstrapValues, 1, envs, columns),
            SelectColumns(inputs.Terminated, steps, envs, columns),
            SelectColumns(inputs.Truncated, steps, envs, columns),
            SelectColumns(inputs.FinalValues, steps, envs, columns));
    }

    /// <summary>
    /// The steps <c>[start, start + count)</c> of a rollout, bootstrapped from the values of row
    /// <c>start + count</c> (or the original bootstrap row when that is <c>T</c>).
    /// </summary>
    /// <param name="inputs">The rollout.</param>
    /// <param name="start">First step kept, in [0, T).</param>
    /// <param name="count">Steps kept, in [1, T - start].</param>
    public static ReturnInputs SelectSteps(ReturnInputs inputs, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int steps = inputs.Steps, envs = inputs.Envs;
        if (start < 0 || start >= steps)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"{nameof(start)} must be in [0, {steps}); got {start}.");
        if (count < 1 || start + count > steps)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"{nameof(count)} must be in [1, {steps - start}]; got {count}.");
        int end = start + count;
        float[] bootstrap = end == steps
            ? (float[])inputs.BootstrapValues.Clone()
            : inputs.Values.AsSpan(end * envs, envs).ToArray();
        return new ReturnInputs(count, envs,
            inputs.Rewards.AsSpan(start * envs, count * envs).ToArray(),
            inputs.Values.AsSpan(start * envs, count * envs).ToArray(),
            bootstrap,
            inputs.Terminated.AsSpan(start * envs, count * envs).ToArray(),
            inputs.Truncated.AsSpan(start * envs, count * envs).ToArray(),
            inputs.FinalValues.AsSpan(start * envs, count * envs).ToArray());
    }
}
