namespace Advantage.Learning;

/// <summary>
/// Returns and advantages of a time-major rollout, as plain arithmetic over spans so the learner can
/// run them on tensor memory without copies and the laws in ARCHITECTURE.md ("Return semantics") can be
/// property-tested without TorchSharp.
/// </summary>
/// <remarks>
/// <para>
/// Every <c>[T, N]</c> span is time-major and flattened as <c>t * N + n</c>, where <c>T</c> is
/// <c>steps</c> and <c>N</c> is <c>envs</c>. <c>V(s_t)</c> is <c>values[t * N + n]</c>;
/// <c>V(s_T)</c>, the row after the last step, is <c>bootstrapValues[n]</c>; <c>done_t</c> is
/// <c>terminated_t || truncated_t</c>. Every function uses the same one-step target:
/// </para>
/// <code>
/// target_t = r_t                                  if terminated_t (wins when both flags are set)
///          = r_t + gamma * V(final observation_t)  if truncated_t
///          = r_t + gamma * V(s_{t+1})              otherwise
/// </code>
/// <para>
/// Terminated and truncated are kept apart because a time limit is not the end of the MDP: treating
/// truncation as termination teaches the critic that the state before a time limit is worth nothing.
/// The value of a truncated episode's final observation, <c>finalValues[t * N + n]</c>, is read only
/// where <c>truncated &amp;&amp; !terminated</c>, because the vector environment has already reset that
/// column and <c>s_{t+1}</c> belongs to the next episode; elsewhere it may hold anything.
/// </para>
/// <para>
/// Sums run in <see cref="double"/> and are rounded to <see cref="float"/> once when written, so the
/// error does not grow with the horizon. Nothing is allocated: each column is walked backwards in
/// time with scalar accumulators. Outputs must not overlap any input (checked), because a column
/// still needs <c>V(s_t)</c> after its return is written.
/// </para>
/// </remarks>
public static partial class Returns
{
    /// <summary>
    /// Discounted n-step returns, cut at episode ends and bootstrapped from the critic where the
    /// rollout (or a truncated episode) stops before the MDP does.
    /// </summary>
    /// <remarks>
    /// <code>
    /// R_T = V(s_T)                              (bootstrapValues)
    /// R_t = r_t + gamma * R_{t+1}               if not done_t
    ///     = target_t                            if done_t  (r_t, or r_t + gamma * V(final_t) if only truncated)
    /// </code>
    /// </remarks>
    /// <param name="rewards"><c>[T, N]</c> rewards <c>r_t</c>; finite.</param>
    /// <param name="values"><c>[T, N]</c> critic values <c>V(s_t)</c>; finite. Not used by the n-step return
    /// itself but checked, so both functions accept exactly the same inputs.</param>
    /// <param name="bootstrapValues"><c>[N]</c> values <c>V(s_T)</c> of the observation after the last step; finite.</param>
    /// <param name="terminated"><c>[T, N]</c>: the MDP ended at step t; no value follows.</param>
    /// <param name="truncated"><c>[T, N]</c>: the episode was cut from outside at step t; its final observation still has value.</param>
    /// <param name="finalValues"><c>[T, N]</c> values of the final observation of the episode truncated at step t;
    /// read (and required finite) only where truncated and not terminated.</param>
    /// <param name="steps"><c>T</c>, at least 1.</param>
    /// <param name="envs"><c>N</c>, at least 1.</param>
    /// <param name="gamma">Discount in [0, 1].</param>
    /// <param name="returns"><c>[T, N]</c> output <c>R_t</c>; must not overlap any input.</param>
    /// <exception cref="ArgumentOutOfRangeException">steps, envs or gamma out of range.</exception>
    /// <exception cref="ArgumentException">A span has the wrong length, an input is not finite, or the output overlaps an input.</exception>
    public static void NStep(ReadOnlySpan<float> rewards, ReadOnlySpan<float> values, ReadOnlySpan<float> bootstrapValues,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalValues,
        int steps, int envs, double gamma, Span<float> returns)
    {
        int size = CheckShape(steps, envs);
        CheckDiscount(gamma, nameof(gamma));
        CheckInputs(rewards, values, bootstrapValues, terminated, truncated, finalValues, steps, envs, size);
        CheckOutput(returns, nameof(returns), size, rewards, values, bootstrapValues, finalValues);

        for (int n = 0; n < envs; n++)
        {
            double next = bootstrapValues[n]; // R_{t+1}, starting from R_T = V(s_T)
            for (int t = steps - 1; t >= 0; t--)
            {
                int i = t * envs + n;
                double r = rewards[i];
                double ret;
                if (terminated[i]) ret = r;
                else if (truncated[i]) ret = r + gamma * finalValues[i];
                else ret = r + gamma * next;
                returns[i] = (float)ret;
                next = ret;
            }
        }
    }

    /// <summary>
    /// Generalized advantage estimation (Schulman et al. 2016) with critic targets, trading the n-step
    /// return's variance (lambda = 1) against the one-step TD error's bias (lambda = 0).
    /// </summary>
    /// <remarks>
    /// <code>
    /// delta_t = target_t - V(s_t)
    /// A_T     = 0
    /// A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}
    /// returns = A + V                           (the critic's regression target)
    /// </code>
    /// With lambda = 1 the advantage equals the n-step return minus <c>V(s_t)</c>; with lambda = 0 it is
    /// the one-step TD error <c>delta_t</c>.
    /// </remarks>
    /// <param name="rewards"><c>[T, N]</c> rewards <c>r_t</c>; finite.</param>
    /// <param name="values"><c>[T, N]</c> critic values <c>V(s_t)</c>; finite.</param>
    /// <param name="bootstrapValues"><c>[N]</c> values <c>V(s_T)</c> of the observation after the last step; finite.</param>
    /// <param name="terminated"><c>[T, N]</c>: the MDP ended at step t; no value follows.</param>
    /// <param name="truncated"><c>[T, N]</c>: the episode was cut from outside at step t; its final observation still has value.</param>
    /// <param name="finalValues"><c>[T, N]</c> values of the final observation of the episode truncated at step t;
    /// read (and required finite) only where truncated and not terminated.</param>
    /// <param name="steps"><c>T</c>, at least 1.</param>
    /// <param name="envs"><c>N</c>, at least 1.</param>
    /// <param name="gamma">Discount in [0, 1].</param>
    /// <param name="lambda">GAE's lambda in [0, 1].</param>
    /// <param name="advantages"><c>[T, N]</c> output <c>A_t</c>; must not overlap any input or <paramref name="returns"/>.</param>
    /// <param name="returns"><c>[T, N]</c> output <c>A_t + V(s_t)</c>; must not overlap any input or <paramref name="advantages"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">steps, envs, gamma or lambda out of range.</exception>
    /// <exception cref="ArgumentException">A span has the wrong length, an input is not finite, or an output overlaps another span.</exception>
    public static void Gae(ReadOnlySpan<float> rewards, ReadOnlySpan<float> values, ReadOnlySpan<float> bootstrapValues,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalValues,
        int steps, int envs, double gamma, double lambda, Span<float> advantages, Span<float> returns)
    {
        int size = CheckShape(steps, envs);
        CheckDiscount(gamma, nameof(gamma));
        CheckDiscount(lambda, nameof(lambda));
        CheckInputs(rewards, values, bootstrapValues, terminated, truncated, finalValues, steps, envs, size);
        CheckOutput(advantages, nameof(advantages), size, rewards, values, bootstrapValues, finalValues);
        CheckOutput(returns, nameof(returns), size, rewards, values, bootstrapValues, finalValues);
        if (advantages.Overlaps(returns))
            throw new ArgumentException($"{nameof(returns)} must not overlap {nameof(advantages)}.", nameof(returns));

        double decay = gamma * lambda;
        for (int n = 0; n < envs; n++)
        {
            double nextValue = bootstrapValues[n]; // V(s_{t+1})
            double nextAdvantage = 0.0;            // A_{t+1}, with A_T = 0
            for (int t = steps - 1; t >= 0; t--)
            {
                int i = t * envs + n;
                double r = rewards[i];
                double v = values[i];
                double advantage;
                if (terminated[i]) advantage = r - v;
                else if (truncated[i]) advantage = r + gamma * finalValues[i] - v;
                else advantage = r + gamma * nextValue - v + decay * nextAdvantage;
                advantages[i] = (float)advantage;
                returns[i] = (float)(advantage + v);
                nextAdvantage = advantage;
                nextValue = v;
            }
        }
    }

    /// <summary>
    /// <see cref="NStep(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{bool}, ReadOnlySpan{bool}, ReadOnlySpan{float}, int, int, double, Span{float})"/>
    /// on arrays, for callers (F#, tests, notebooks) who prefer values to buffers; it allocates the result.
    /// </summary>
    /// <param name="inputs">The rollout.</param>
    /// <param name="gamma">Discount in [0, 1].</param>
    /// <returns>The <c>[T, N]</c> n-step returns, flattened as <c>t * N + n</c>.</returns>
    public static float[] NStep(ReturnInputs inputs, double gamma)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var returns = new float[CheckShape(inputs.Steps, inputs.Envs)];
        NStep(inputs.Rewards, inputs.Values, inputs.BootstrapValues, inputs.Terminated, inputs.Truncated, inputs.FinalValues,
            inputs.Steps, inputs.Envs, gamma, returns);
        return returns;
    }

    /// <summary>
    /// <see cref="Gae(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{bool}, ReadOnlySpan{bool}, ReadOnlySpan{float}, int, int, double, double, Span{float}, Span{float})"/>
    /// on arrays, for callers (F#, tests, notebooks) who prefer values to buffers; it allocates the result.
    /// </summary>
    /// <param name="inputs">The rollout.</param>
    /// <param name="gamma">Discount in [0, 1].</param>
    /// <param name="lambda">GAE's lambda in [0, 1].</param>
    /// <returns>The <c>[T, N]</c> advantages and critic targets, flattened as <c>t * N + n</c>.</returns>
    public static GaeResult Gae(ReturnInputs inputs, double gamma, double lambda)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int size = CheckShape(inputs.Steps, inputs.Envs);
        var advantages = new float[size];
        var returns = new float[size];
        Gae(inputs.Rewards, inputs.Values, inputs.BootstrapValues, inputs.Terminated, inputs.Truncated, inputs.FinalValues,
            inputs.Steps, inputs.Envs, gamma, lambda, advantages, returns);
        return new GaeResult(advantages, returns);
    }

    private static int CheckShape(int steps, int envs)
    {
        if (steps < 1)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"{nameof(steps)} must be >= 1; got {steps}.");
        if (envs < 1)
            throw new ArgumentOutOfRangeException(nameof(envs), envs, $"{nameof(envs)} must be >= 1; got {envs}.");
        long size = (long)steps * envs;
        if (size > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(steps), steps,
                $"{nameof(steps)} * {nameof(envs)} must be at most {Array.MaxLength}; got {steps} * {envs} = {size}.");
        return (int)size;
    }

    private static void CheckDiscount(double factor, string name)
    {
        if (!(factor >= 0.0 && factor <= 1.0)) // also rejects NaN
            throw new ArgumentOutOfRangeException(name, factor, $"{name} must be in [0, 1]; got {factor}.");
    }

    private static void CheckInputs(ReadOnlySpan<float> rewards, ReadOnlySpan<float> values, ReadOnlySpan<float> bootstrapValues,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalValues, int steps, int envs, int size)
    {
        CheckLength(rewards.Length, size, nameof(rewards), steps, envs);
        CheckLength(values.Length, size, nameof(values), steps, envs);
        if (bootstrapValues.Length != envs)
            throw new ArgumentException(
                $"{nameof(bootstrapValues)} must have envs = {envs} elements (one V(s_T) per column); got {bootstrapValues.Length}.",
                nameof(bootstrapValues));
        CheckLength(terminated.Length, size, nameof(terminated), steps, envs);
        CheckLength(truncated.Length, size, nameof(truncated), steps, envs);
        CheckLength(finalValues.Length, size, nameof(finalValues), steps, envs);

        CheckFinite(rewards, nameof(rewards), envs);
        CheckFinite(values, nameof(values), envs);
        for (int n = 0; n < bootstrapValues.Length; n++)
            if (!float.IsFinite(bootstrapValues[n]))
                throw new ArgumentException(
                    $"{nameof(bootstrapValues)}[{n}] is {bootstrapValues[n]}; every element must be finite.", nameof(bootstrapValues));
        for (int i = 0; i < size; i++)
            if (truncated[i] && !terminated[i] && !float.IsFinite(finalValues[i]))
                throw new ArgumentException(
                    $"{nameof(finalValues)}[{i}] (t {i / envs}, env {i % envs}) is {finalValues[i]}; it must be finite where truncated and not terminated.",
                    nameof(finalValues));
    }

    private static void CheckLength(int length, int size, string name, int steps, int envs)
    {
        if (length != size)
            throw new ArgumentException(
                $"{name} must have steps * envs = {steps} * {envs} = {size} elements; got {length}.", name);
    }

    private static void CheckFinite(ReadOnlySpan<float> span, string name, int envs)
    {
        for (int i = 0; i < span.Length; i++)
            if (!float.IsFinite(span[i]))
                throw new ArgumentException($"{name}[{i}] (t {i / envs}, env {i % envs}) is {span[i]}; every element must be finite.", name);
    }

    private static void CheckOutput(Span<float> output, string name, int size,
        ReadOnlySpan<float> rewards, ReadOnlySpan<float> values, ReadOnlySpan<float> bootstrapValues, ReadOnlySpan<float> finalValues)
    {
        if (output.Length != size)
            throw new ArgumentException($"{name} must have steps * envs = {size} elements; got {output.Length}.", name);
        ReadOnlySpan<float> o = output;
        if (o.Overlaps(rewards) || o.Overlaps(values) || o.Overlaps(bootstrapValues) || o.Overlaps(finalValues))
            throw new ArgumentException(
                $"{name} must not overlap {nameof(rewards)}, {nameof(values)}, {nameof(bootstrapValues)} or {nameof(finalValues)}.", name);
    }
}

/// <summary>
/// One rollout as arrays, so F# and test code can build, keep and vary it as a value and call
/// <see cref="Returns.NStep(ReturnInputs, double)"/> or <see cref="Returns.Gae(ReturnInputs, double, double)"/>.
/// Layouts are those of <see cref="Returns"/>: <c>[T, N]</c> flattened as <c>t * N + n</c>.
/// </summary>
/// <remarks>
/// The record keeps the arrays it is given (no copy, so wrapping a rollout is free) and nothing in
/// this library writes to them; do not mutate them while the record is in use. Shapes and values are
/// checked where the record is used, with the same messages as the span functions. F# cannot use
/// C#'s <c>with</c>, hence the <c>WithX</c> methods.
/// </remarks>
/// <param name="Steps"><c>T</c>, at least 1.</param>
/// <param name="Envs"><c>N</c>, at least 1.</param>
/// <param name="Rewards"><c>[T, N]</c> rewards.</param>
/// <param name="Values"><c>[T, N]</c> critic values <c>V(s_t)</c>.</param>
/// <param name="BootstrapValues"><c>[N]</c> values <c>V(s_T)</c> after the last step.</param>
/// <param name="Terminated"><c>[T, N]</c> terminated flags.</param>
/// <param name="Truncated"><c>[T, N]</c> truncated flags.</param>
/// <param name="FinalValues"><c>[T, N]</c> values of truncated episodes' final observations (read only where truncated and not terminated).</param>
public sealed record ReturnInputs(
    int Steps, int Envs, float[] Rewards, float[] Values, float[] BootstrapValues,
    bool[] Terminated, bool[] Truncated, float[] FinalValues)
{
    /// <summary>A copy with other rewards.</summary>
    public ReturnInputs WithRewards(float[] rewards) => this with { Rewards = rewards };

    /// <summary>A copy with other critic values <c>V(s_t)</c>.</summary>
    public ReturnInputs WithValues(float[] values) => this with { Values = values };

    /// <summary>A copy with other bootstrap values <c>V(s_T)</c>.</summary>
    public ReturnInputs WithBootstrapValues(float[] bootstrapValues) => this with { BootstrapValues = bootstrapValues };

    /// <summary>A copy with other terminated flags.</summary>
    public ReturnInputs WithTerminated(bool[] terminated) => this with { Terminated = terminated };

    /// <summary>A copy with other truncated flags.</summary>
    public ReturnInputs WithTruncated(bool[] truncated) => this with { Truncated = truncated };

    /// <summary>A copy with other final-observation values.</summary>
    public ReturnInputs WithFinalValues(float[] finalValues) => this with { FinalValues = finalValues };

    /// <summary>Element-wise equality of shapes and contents, so two rollouts compare as values (records compare arrays by reference).</summary>
    public bool Equals(ReturnInputs? other) =>
        other is not null && Steps == other.Steps && Envs == other.Envs
        && Same(Rewards, other.Rewards) && Same(Values, other.Values) && Same(BootstrapValues, other.BootstrapValues)
        && Same(Terminated, other.Terminated) && Same(Truncated, other.Truncated) && Same(FinalValues, other.FinalValues);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Steps, Envs, Rewards?.Length ?? 0);

    private static bool Same<T>(T[]? a, T[]? b) where T : IEquatable<T> =>
        ReferenceEquals(a, b) || (a is not null && b is not null && a.AsSpan().SequenceEqual(b));
}

/// <summary>The result of <see cref="Returns.Gae(ReturnInputs, double, double)"/>: a named pair instead of a tuple or <c>out</c> parameters.</summary>
/// <param name="Advantages"><c>[T, N]</c> advantages <c>A_t</c>, for the policy gradient.</param>
/// <param name="Returns"><c>[T, N]</c> critic targets <c>A_t + V(s_t)</c>.</param>
public sealed record GaeResult(float[] Advantages, float[] Returns);
