namespace Advantage.Environments;

/// <summary>
/// K environments of identical spaces stepped together, with automatic reset of finished episodes
/// (Gymnasium's same-step autoreset, as in Stable-Baselines3's <c>VecEnv</c>). It exists so an actor
/// can run one batched policy forward for all K environments per time step, reading and writing flat,
/// row-major buffers that map directly onto tensors.
/// </summary>
/// <remarks>
/// <para>
/// All buffers are allocated once in the constructor and exposed as read-only spans over them, so a
/// <see cref="Step"/> allocates nothing (as long as the environments' own steps do not) and the spans
/// change in place: copy what must outlive the next <see cref="Step"/> or <see cref="Reset"/>.
/// </para>
/// <para>
/// When environment i finishes, the observation its last step produced is kept in
/// <see cref="FinalObservations"/> (a truncated episode's value is bootstrapped from it), and
/// <see cref="Observations"/> row i already holds the next episode's first observation, so the caller
/// never needs a separate reset round-trip. Not thread-safe; owned by one actor.
/// </para>
/// </remarks>
public sealed class VectorEnvironment
{
    private readonly IEnvironment[] environments;
    private readonly float[] observations;
    private readonly float[] finalObservations;
    private readonly float[] rewards;
    private readonly bool[] terminated;
    private readonly bool[] truncated;
    private readonly double[] runningReturns;
    private readonly int[] runningLengths;
    private readonly double[] finishedReturns;
    private readonly int[] finishedLengths;
    private bool isReset;

    /// <summary>
    /// Takes ownership of <paramref name="environments"/>: they must not be stepped elsewhere, or the
    /// episode bookkeeping here goes wrong.
    /// </summary>
    /// <exception cref="ArgumentException">The list is empty, holds the same instance twice, or the spaces differ.</exception>
    public VectorEnvironment(IReadOnlyList<IEnvironment> environments)
    {
        ArgumentNullException.ThrowIfNull(environments);
        if (environments.Count == 0)
            throw new ArgumentException("A vector environment needs at least one environment.", nameof(environments));
        this.environments = new IEnvironment[environments.Count];
        for (int i = 0; i < environments.Count; i++)
        {
            IEnvironment environment = environments[i]
                ?? throw new ArgumentException($"Environment {i} is null.", nameof(environments));
            for (int j = 0; j < i; j++)
                if (ReferenceEquals(this.environments[j], environment))
                    throw new ArgumentException($"Environments {j} and {i} are the same instance; each slot needs its own environment.", nameof(environments));
            this.environments[i] = environment;
        }

        ObservationSpace = this.environments[0].ObservationSpace;
        ActionSpace = this.environments[0].ActionSpace;
        for (int i = 1; i < Count; i++)
        {
            if (!Equals(this.environments[i].ObservationSpace, ObservationSpace))
                throw new ArgumentException(
                    $"Environment {i} observes {this.environments[i].ObservationSpace}, environment 0 observes {ObservationSpace}; all must share one observation space.",
                    nameof(environments));
            if (!Equals(this.environments[i].ActionSpace, ActionSpace))
                throw new ArgumentException(
                    $"Environment {i} acts in {this.environments[i].ActionSpace}, environment 0 acts in {ActionSpace}; all must share one action space.",
                    nameof(environments));
        }

        ObservationSize = ObservationSpace.FlatSize;
        ActionSize = ActionSpace.FlatSize;
        observations = new float[Count * ObservationSize];
        finalObservations = new float[Count * ObservationSize];
        rewards = new float[Count];
        terminated = new bool[Count];
        truncated = new bool[Count];
        runningReturns = new double[Count];
        runningLengths = new int[Count];
        finishedReturns = new double[Count];
        finishedLengths = new int[Count];
    }

    /// <summary>The number of environments K; the batch dimension of every buffer.</summary>
    public int Count => environments.Length;

    /// <summary>The shared observation space; sizes the network input.</summary>
    public Space ObservationSpace { get; }

    /// <summary>The shared action space; selects the policy head.</summary>
    public Space ActionSpace { get; }

    /// <summary>Floats per observation row, so callers can slice and shape buffers without inspecting the space.</summary>
    public int ObservationSize { get; }

    /// <summary>Floats per action row (1 for <see cref="Discrete"/>), the stride of <see cref="Step"/>'s input.</summary>
    public int ActionSize { get; }

    /// <summary>
    /// The current observation of every environment, [Count * ObservationSize] row-major: the input of the
    /// next policy forward. Rows that finished in the last step already show the new episode's start.
    /// </summary>
    public ReadOnlySpan<float> Observations => observations;

    /// <summary>The reward of the last step per environment, [Count]; float because it feeds float32 tensors.</summary>
    public ReadOnlySpan<float> Rewards => rewards;

    /// <summary>Whether the last step ended each episode in a terminal state, [Count]: no bootstrapping there.</summary>
    public ReadOnlySpan<bool> Terminated => terminated;

    /// <summary>Whether the last step cut each episode from outside (time limit), [Count]: bootstrap from the final observation.</summary>
    public ReadOnlySpan<bool> Truncated => truncated;

    /// <summary>
    /// [Count * ObservationSize]; row i holds the observation the last step produced for environment i,
    /// valid only where <see cref="Terminated"/> or <see cref="Truncated"/> is set (other rows keep stale
    /// data). It is kept because <see cref="Observations"/> row i has already moved on to the next episode.
    /// </summary>
    public ReadOnlySpan<float> FinalObservations => finalObservations;

    /// <summary>
    /// The undiscounted return (sum of rewards, in double to avoid drift over long episodes) of each
    /// episode finished by the last step, [Count]; 0 for rows that did not finish. For training statistics.
    /// </summary>
    public ReadOnlySpan<double> FinishedReturns => finishedReturns;

    /// <summary>The length in steps of each episode finished by the last step, [Count]; 0 for rows that did not finish.</summary>
    public ReadOnlySpan<int> FinishedLengths => finishedLengths;

    /// <summary>How many episodes the last step finished, so callers can skip scanning the flags when it is 0.</summary>
    public int FinishedCount { get; private set; }

    /// <summary>
    /// When true, <see cref="Reset"/> and <see cref="Step"/> throw <see cref="EnvironmentException"/> as soon as an
    /// environment returns a non-finite reward or writes a non-finite observation, naming the slot, the step and the
    /// element (as Stable-Baselines3's <c>VecCheckNan</c>). A NaN caught here is one precise line; caught in the
    /// learner it is a rejected batch, and unnoticed it is a network of NaNs. Default false: it scans every value.
    /// </summary>
    public bool RequireFinite { get; set; }

    /// <summary>
    /// Starts a new episode in every environment, seeding environment i with <paramref name="seed"/> + i
    /// (Gymnasium's vector convention) so one seed reproduces the whole vector while the environments
    /// still start differently; with the classic-control environments column i then starts the episode
    /// Gymnasium starts for seed + i. A sum past <see cref="int.MaxValue"/> wraps, which those environments
    /// read as the same seed modulo 2^32 (<see cref="NumPyRandom.FromEnvironmentSeed"/>). Finished episodes
    /// later reset unseeded, drawing on from each environment's stream. Clears the step flags and episode
    /// bookkeeping.
    /// </summary>
    /// <exception cref="EnvironmentException">An environment threw (the slot is named; the environment's exception is inner), or wrote a non-finite observation under <see cref="RequireFinite"/>.</exception>
    public void Reset(int seed)
    {
        for (int i = 0; i < Count; i++)
            ResetOne(i, unchecked(seed + i), observations.AsSpan(i * ObservationSize, ObservationSize));
        Array.Clear(rewards);
        Array.Clear(terminated);
        Array.Clear(truncated);
        Array.Clear(runningReturns);
        Array.Clear(runningLengths);
        Array.Clear(finishedReturns);
        Array.Clear(finishedLengths);
        FinishedCount = 0;
        isReset = true;
    }

    /// <summary>
    /// Steps every environment with its row of <paramref name="actions"/> ([Count * ActionSize]
    /// row-major) and resets the ones that finished, recording their final observation, return and length.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="Reset"/> was never called.</exception>
    /// <exception cref="ArgumentException"><paramref name="actions"/> does not hold Count * ActionSize floats.</exception>
    /// <exception cref="EnvironmentException">An environment threw (the slot and the step of its episode are named; the environment's exception is inner), or returned a non-finite value under <see cref="RequireFinite"/>.</exception>
    public void Step(ReadOnlySpan<float> actions)
    {
        if (!isReset)
            throw new InvalidOperationException("Call Reset(seed) before the first Step.");
        if (actions.Length != Count * ActionSize)
            throw new ArgumentException(
                $"Expected {Count} x {ActionSize} = {Count * ActionSize} action floats; got {actions.Length}.", nameof(actions));

        int finished = 0;
        for (int i = 0; i < Count; i++)
        {
            Span<float> row = observations.AsSpan(i * ObservationSize, ObservationSize);
            StepResult result;
            try
            {
                result = environments[i].Step(actions.Slice(i * ActionSize, ActionSize), row);
            }
            catch (Exception e)
            {
                throw new EnvironmentException(i, EnvironmentMethod.Step, runningLengths[i] + 1, $"threw {e.GetType().Name}: {e.Message}", e);
            }
            if (RequireFinite)
            {
                if (!float.IsFinite((float)result.Reward))
                    throw new EnvironmentException(i, EnvironmentMethod.Step, runningLengths[i] + 1,
                        $"returned the reward {result.Reward.ToString(System.Globalization.CultureInfo.InvariantCulture)}; rewards must be finite (as float32)");
                CheckFinite(i, EnvironmentMethod.Step, runningLengths[i] + 1, row);
            }
            rewards[i] = (float)result.Reward;
            terminated[i] = result.Terminated;
            truncated[i] = result.Truncated;
            runningReturns[i] += result.Reward;
            runningLengths[i]++;
            if (result.IsFinished)
            {
                row.CopyTo(finalObservations.AsSpan(i * ObservationSize, ObservationSize));
                finishedReturns[i] = runningReturns[i];
                finishedLengths[i] = runningLengths[i];
                runningReturns[i] = 0.0;
                runningLengths[i] = 0;
                finished++;
                ResetOne(i, null, row);
            }
            else
            {
                finishedReturns[i] = 0.0;
                finishedLengths[i] = 0;
            }
        }
        FinishedCount = finished;
    }

    private void ResetOne(int slot, int? seed, Span<float> row)
    {
        try
        {
            environments[slot].Reset(seed, row);
        }
        catch (Exception e)
        {
            throw new EnvironmentException(slot, EnvironmentMethod.Reset, 0, $"threw {e.GetType().Name}: {e.Message}", e);
        }
        if (RequireFinite) CheckFinite(slot, EnvironmentMethod.Reset, 0, row);
    }

    private static void CheckFinite(int slot, EnvironmentMethod method, int step, ReadOnlySpan<float> row)
    {
        for (int e = 0; e < row.Length; e++)
            if (!float.IsFinite(row[e]))
                throw new EnvironmentException(slot, method, step,
                    $"wrote the observation value {row[e].ToString(System.Globalization.CultureInfo.InvariantCulture)} at element {e}; observations must be finite");
    }

    /// <summary>
    /// Whether <see cref="SaveState"/> works: every environment is an <see cref="IResumableEnvironment"/> that can save.
    /// </summary>
    public bool CanSaveState => Array.TrueForAll(environments, e => e is IResumableEnvironment { CanSave: true });

    /// <summary>
    /// Everything the vector's future depends on: each environment's saved state, its current observation and the
    /// running return and length of its episode in progress, so <see cref="RestoreState"/> (on a vector of the same
    /// environments) continues every episode where it was, and reports it whole when it ends.
    /// </summary>
    /// <exception cref="NotSupportedException"><see cref="CanSaveState"/> is false.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Reset"/> was never called.</exception>
    public byte[] SaveState()
    {
        if (!isReset) throw new InvalidOperationException("Call Reset(seed) before saving: there is nothing to save yet.");
        var saved = new byte[Count][];
        for (int i = 0; i < Count; i++)
            saved[i] = environments[i] is IResumableEnvironment { CanSave: true } resumable
                ? resumable.Save()
                : throw new NotSupportedException($"Environment {i} ({environments[i].GetType().Name}) cannot save its state.");
        return SavedState.Write(nameof(VectorEnvironment), w =>
        {
            w.Write(Count);
            for (int i = 0; i < Count; i++)
            {
                w.Write(saved[i].Length);
                w.Write(saved[i]);
                w.WriteFloats(observations.AsSpan(i * ObservationSize, ObservationSize));
                w.Write(runningReturns[i]);
                w.Write(runningLengths[i]);
            }
        });
    }

    /// <summary>Continues from what <see cref="SaveState"/> returned, on a vector of the same environments; the step flags are cleared.</summary>
    /// <exception cref="ArgumentException">The bytes are not a saved state of a vector of this size and these environments.</exception>
    public void RestoreState(ReadOnlySpan<byte> saved)
    {
        SavedState.Read(saved, nameof(VectorEnvironment), r =>
        {
            int count = r.ReadInt32();
            if (count != Count) throw new ArgumentException($"The saved vector holds {count} environments; this one {Count}.", nameof(saved));
            for (int i = 0; i < Count; i++)
            {
                int length = r.ReadInt32();
                if (length < 0) throw new FormatException("negative length");
                var environment = environments[i] as IResumableEnvironment
                    ?? throw new ArgumentException($"Environment {i} ({environments[i].GetType().Name}) cannot restore a state.", nameof(saved));
                environment.Restore(r.ReadBytes(length));
                r.ReadFloats(observations.AsSpan(i * ObservationSize, ObservationSize));
                runningReturns[i] = r.ReadDouble();
                runningLengths[i] = r.ReadInt32();
            }
        });
        Array.Clear(rewards);
        Array.Clear(terminated);
        Array.Clear(truncated);
        Array.Clear(finishedReturns);
        Array.Clear(finishedLengths);
        FinishedCount = 0;
        isReset = true;
    }
}
