namespace Advantage.Learning;

public static partial class Returns
{
    /// <summary>
    /// V-trace value targets and policy-gradient advantages (IMPALA, Espeholt et al. 2018, eq. 1), for a
    /// learner whose rollouts were collected by an older policy <c>mu</c> than the one it trains (<c>pi</c>):
    /// importance ratios correct for the lag, and clipping them keeps the variance bounded.
    /// </summary>
    /// <remarks>
    /// <para>
    /// With <c>rho_t = exp(logRhos_t) = pi(a_t|x_t) / mu(a_t|x_t)</c>, the same one-step <c>target_t</c> as
    /// <see cref="Gae(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{bool}, ReadOnlySpan{bool}, ReadOnlySpan{float}, int, int, double, double, Span{float}, Span{float})"/>
    /// (terminated: <c>r_t</c>; truncated: <c>r_t + gamma * V(final_t)</c>; otherwise <c>r_t + gamma * V(x_{t+1})</c>,
    /// with <c>V(x_T)</c> the bootstrap value) and a missing threshold meaning no clipping:
    /// </para>
    /// <code>
    /// delta_t       = min(rhoBar, rho_t) * (target_t - V(x_t))
    /// c_t           = lambda * min(cBar, rho_t)
    /// vs_T          = V(x_T)
    /// vs_t - V(x_t) = delta_t + gamma * c_t * (1 - done_t) * (vs_{t+1} - V(x_{t+1}))
    /// q_t           = r_t + gamma * vs_{t+1}   if not done_t
    ///               = target_t                 if done_t  (r_t, or r_t + gamma * V(final_t) if only truncated)
    /// pgAdv_t       = min(pgRhoBar, rho_t) * (q_t - V(x_t))
    /// </code>
    /// <para>
    /// A truncated step is cut like a terminated one (its next row belongs to the next episode) but keeps
    /// the value of its final observation, so V-trace and GAE agree on where episodes end. On-policy
    /// (every <c>logRhos</c> 0) with thresholds of at least 1 or none, <c>vs</c> is GAE(lambda)'s critic
    /// target; with lambda 1 as well, it is the n-step return and <c>pgAdv</c> the n-step advantage.
    /// TorchBeast's and DeepMind's V-trace are lambda 1 and <c>cBar</c> 1.
    /// </para>
    /// <para>
    /// Like <see cref="Gae(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{bool}, ReadOnlySpan{bool}, ReadOnlySpan{float}, int, int, double, double, Span{float}, Span{float})"/>,
    /// it sums in <see cref="double"/>, rounds each output to <see cref="float"/> once, walks each column
    /// backwards with scalar accumulators and allocates nothing. Without clipping, large ratios multiply
    /// along the trace (<c>c_t</c> up to <c>exp(logRhos_t)</c>) and can overflow a float; clip them.
    /// </para>
    /// </remarks>
    /// <param name="logRhos"><c>[T, N]</c> log importance ratios <c>log(pi(a_t|x_t) / mu(a_t|x_t))</c> of the taken actions; finite.</param>
    /// <param name="rewards"><c>[T, N]</c> rewards <c>r_t</c>; finite.</param>
    /// <param name="values"><c>[T, N]</c> critic values <c>V(x_t)</c> under the current policy; finite.</param>
    /// <param name="bootstrapValues"><c>[N]</c> values <c>V(x_T)</c> of the observation after the last step; finite.</param>
    /// <param name="terminated"><c>[T, N]</c>: the MDP ended at step t; no value follows.</param>
    /// <param name="truncated"><c>[T, N]</c>: the episode was cut from outside at step t; its final observation still has value.</param>
    /// <param name="finalValues"><c>[T, N]</c> values of the final observation of the episode truncated at step t;
    /// read (and required finite) only where truncated and not terminated.</param>
    /// <param name="steps"><c>T</c>, at least 1.</param>
    /// <param name="envs"><c>N</c>, at least 1.</param>
    /// <param name="gamma">Discount in [0, 1].</param>
    /// <param name="lambda">Trace lambda in [0, 1] (the paper's Remark 2; 1 in IMPALA).</param>
    /// <param name="rhoBar">Clip of the ratio in <c>delta_t</c>, &gt; 0, or null for none. It chooses which policy's value
    /// <c>vs</c> estimates: one between <c>mu</c> (as it nears 0) and <c>pi</c> (no clipping). IMPALA uses 1.</param>
    /// <param name="cBar">Clip of the ratio in the trace coefficient <c>c_t</c>, &gt; 0, or null for none; it bounds
    /// the variance of the product of ratios, not the fixed point. IMPALA uses 1.</param>
    /// <param name="pgRhoBar">Clip of the ratio that weights the policy-gradient advantage, &gt; 0, or null for none. IMPALA uses 1.</param>
    /// <param name="vs"><c>[T, N]</c> output: the critic targets <c>vs_t</c>; must not overlap any input or <paramref name="pgAdvantages"/>.</param>
    /// <param name="pgAdvantages"><c>[T, N]</c> output: <c>pgAdv_t</c>, to multiply <c>log pi(a_t|x_t)</c> by; must not overlap any input or <paramref name="vs"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">steps, envs, gamma, lambda or a threshold out of range.</exception>
    /// <exception cref="ArgumentException">A span has the wrong length, an input is not finite, or an output overlaps another span.</exception>
    public static void VTrace(ReadOnlySpan<float> logRhos, ReadOnlySpan<float> rewards, ReadOnlySpan<float> values,
        ReadOnlySpan<float> bootstrapValues, ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> finalValues,
        int steps, int envs, double gamma, double lambda, double? rhoBar, double? cBar, double? pgRhoBar,
        Span<float> vs, Span<float> pgAdvantages)
    {
        int size = CheckShape(steps, envs);
        CheckDiscount(gamma, nameof(gamma));
        CheckDiscount(lambda, nameof(lambda));
        double rhoClip = CheckThreshold(rhoBar, nameof(rhoBar));
        double cClip = CheckThreshold(cBar, nameof(cBar));
        double pgRhoClip = CheckThreshold(pgRhoBar, nameof(pgRhoBar));
        CheckLength(logRhos.Length, size, nameof(logRhos), steps, envs);
        CheckFinite(logRhos, nameof(logRhos), envs);
        CheckInputs(rewards, values, bootstrapValues, terminated, truncated, finalValues, steps, envs, size);
        CheckVTraceOutput(vs, nameof(vs), size, logRhos, rewards, values, bootstrapValues, finalValues);
        CheckVTraceOutput(pgAdvantages, nameof(pgAdvantages), size, logRhos, rewards, values, bootstrapValues, finalValues);
        if (vs.Overlaps(pgAdvantages))
            throw new ArgumentException($"{nameof(pgAdvantages)} must not overlap {nameof(vs)}.", nameof(pgAdvantages));

        for (int n = 0; n < envs; n++)
        {
            double nextValue = bootstrapValues[n]; // V(x_{t+1})
            double nextVs = nextValue;             // vs_{t+1}, with vs_T = V(x_T)
            double nextCorrection = 0.0;           // vs_{t+1} - V(x_{t+1}), 0 at T
            for (int t = steps - 1; t >= 0; t--)
            {
                int i = t * envs + n;
                double rho = Math.Exp(logRhos[i]);
                double r = rewards[i];
                double v = values[i];
                double correction, q;
                if (terminated[i])
                {
                    correction = Math.Min(rhoClip, rho) * (r - v);
                    q = r;
                }
                else if (truncated[i])
                {
                    q = r + gamma * finalValues[i];
                    correction = Math.Min(rhoClip, rho) * (q - v);
                }
                else
                {
                    double c = lambda * Math.Min(cClip, rho);
                    correction = Math.Min(rhoClip, rho) * (r + gamma * nextValue - v) + gamma * c * nextCorrection;
                    q = r + gamma * nextVs;
                }
                double vsT = v + correction;
                vs[i] = (float)vsT;
                pgAdvantages[i] = (float)(Math.Min(pgRhoClip, rho) * (q - v));
                nextCorrection = correction;
                nextVs = vsT;
                nextValue = v;
            }
        }
    }

    /// <summary>
    /// <see cref="VTrace(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{bool}, ReadOnlySpan{bool}, ReadOnlySpan{float}, int, int, double, double, double?, double?, double?, Span{float}, Span{float})"/>
    /// on arrays, for callers (F#, tests, notebooks) who prefer values to buffers; it allocates the result.
    /// </summary>
    /// <param name="inputs">The rollout.</param>
    /// <param name="logRhos"><c>[T, N]</c> log importance ratios <c>log(pi / mu)</c> of the taken actions, flattened as <c>t * N + n</c>.</param>
    /// <param name="gamma">Discount in [0, 1].</param>
    /// <param name="lambda">Trace lambda in [0, 1].</param>
    /// <param name="rhoBar">Clip of the ratio in <c>delta_t</c>, &gt; 0, or null for none.</param>
    /// <param name="cBar">Clip of the ratio in the trace coefficient <c>c_t</c>, &gt; 0, or null for none.</param>
    /// <param name="pgRhoBar">Clip of the ratio weighting the policy-gradient advantage, &gt; 0, or null for none.</param>
    /// <returns>The <c>[T, N]</c> critic targets and policy-gradient advantages, flattened as <c>t * N + n</c>.</returns>
    public static VTraceResult VTrace(ReturnInputs inputs, float[] logRhos, double gamma, double lambda,
        double? rhoBar, double? cBar, double? pgRhoBar)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(logRhos);
        int size = CheckShape(inputs.Steps, inputs.Envs);
        var vs = new float[size];
        var pgAdvantages = new float[size];
        VTrace(logRhos, inputs.Rewards, inputs.Values, inputs.BootstrapValues, inputs.Terminated, inputs.Truncated, inputs.FinalValues,
            inputs.Steps, inputs.Envs, gamma, lambda, rhoBar, cBar, pgRhoBar, vs, pgAdvantages);
        return new VTraceResult(vs, pgAdvantages);
    }

    /// <returns>The threshold, or positive infinity for none (<c>min(inf, rho) = rho</c> exactly).</returns>
    private static double CheckThreshold(double? threshold, string name)
    {
        if (threshold is not { } value) return double.PositiveInfinity;
        if (!(value > 0.0)) // also rejects NaN
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be > 0 (or null for no clipping); got {value}.");
        return value;
    }

    private static void CheckVTraceOutput(Span<float> output, string name, int size, ReadOnlySpan<float> logRhos,
        ReadOnlySpan<float> rewards, ReadOnlySpan<float> values, ReadOnlySpan<float> bootstrapValues, ReadOnlySpan<float> finalValues)
    {
        CheckOutput(output, name, size, rewards, values, bootstrapValues, finalValues);
        if (((ReadOnlySpan<float>)output).Overlaps(logRhos))
            throw new ArgumentException($"{name} must not overlap {nameof(logRhos)}.", name);
    }
}

/// <summary>The result of <see cref="Returns.VTrace(ReturnInputs, float[], double, double, double?, double?, double?)"/>: a named pair instead of a tuple or <c>out</c> parameters.</summary>
/// <param name="Vs"><c>[T, N]</c> V-trace targets <c>vs_t</c>, for the critic.</param>
/// <param name="PgAdvantages"><c>[T, N]</c> importance-weighted advantages, for the policy gradient.</param>
public sealed record VTraceResult(float[] Vs, float[] PgAdvantages);
