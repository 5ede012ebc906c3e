using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;
using Akka.Event;

namespace Advantage.Actors;

/// <summary>What a worker needs to build its environments and policy copy.</summary>
/// <param name="WorkerId">Stable id; columns are ordered by it.</param>
/// <param name="Seed">Seeds the worker's environments (seed + k) and action sampling.</param>
/// <param name="RolloutLength">T.</param>
/// <param name="Environments">K.</param>
/// <param name="EnvironmentId">For messages that name the environment.</param>
/// <param name="MakeEnvironment">Creates one environment; called K times per (re)start.</param>
/// <param name="Spec">Network sizes, shared with the learner.</param>
internal sealed record WorkerSettings(int WorkerId, int Seed, int RolloutLength, int Environments, string EnvironmentId, Func<IEnvironment> MakeEnvironment, NetworkSpec Spec)
{
    /// <summary>Scale rewards by the running std of each environment's discounted return; null leaves them raw.</summary>
    public RewardScalerOptions? RewardScaling { get; init; }

    /// <summary>
    /// 0 for synchronous rounds: one rollout per <see cref="Parameters"/> received. Otherwise the worker collects
    /// continuously with the newest parameters it holds, records behaviour log-probabilities, and may have this many
    /// rollouts unacknowledged by the learner before it waits (see <see cref="WorkerPlan.Ahead"/>).
    /// </summary>
    public int Ahead { get; init; }

    /// <summary>
    /// The run's checkpoint interval (in updates): the worker attaches its saved state to each rollout whose update
    /// writes a checkpoint (rollout version + 1 divisible by this), so the checkpoint carries it; 0 never. See
    /// <see cref="WorkerActor"/> for why.
    /// </summary>
    public int CheckpointInterval { get; init; }
}

/// <summary>
/// Owns K environments and an inference copy of the policy. In synchronous rounds each <see cref="Parameters"/>
/// message triggers one rollout of T steps with one batched forward per step, and the worker then waits for the
/// next parameters. In asynchronous rounds (<see cref="WorkerSettings.Ahead"/> above 0) it tells itself to collect
/// again after every rollout, so parameters that arrived meanwhile are taken first and it never waits for the
/// learner unless <see cref="WorkerSettings.Ahead"/> of its rollouts are still unacknowledged (<see cref="Parameters.Acknowledged"/>).
/// An environment that throws (on creation, in Reset or in Step) or produces a non-finite reward or observation, and a
/// <see cref="RolloutRefused"/> from the learner, fail the actor with a <see cref="WorkerFaultException"/> naming the worker,
/// the environment slot, the method and the step; it tells the learner (<see cref="WorkerRestarted"/>, counted against
/// <see cref="TrainingOptions.MaxWorkerRestarts"/>), its supervisor restarts it with fresh environments, the partial
/// rollout is discarded, and it registers again.
/// </summary>
/// <remarks>
/// <para>
/// Episodes run on across checkpoints. Resume is exact because the checkpoint carries the workers' state: with the
/// rollout whose update writes a checkpoint (<see cref="WorkerSettings.CheckpointInterval"/>) the worker sends its saved
/// state (<see cref="RolloutCollected.WorkerState"/>: every environment's state, random stream and episode in progress,
/// its action sampler, its reward scaling), the learner writes it into the checkpoint, and a resumed run's learner
/// sends it back (<see cref="RestoreWorker"/>) before the worker's first parameters. The worker then continues exactly
/// where the uninterrupted one would have been, mid-episode.
/// </para>
/// <para>
/// Where that cannot be (environments that do not implement <see cref="IResumableEnvironment"/>, a checkpoint written
/// at a run's end or stop between intervals, an asynchronous run, whose workers save nothing), a resumed worker
/// starts fresh episodes from seeds derived from (worker seed, version): the episodes running when the checkpoint
/// was written are cut there and never reported, and the resume is not exact. The learner says so when it resumes.
/// The cut is sound for learning: the last rollout before it bootstrapped its last step, as a truncation does.
/// </para>
/// </remarks>
internal sealed class WorkerActor : ReceiveActor
{
    /// <summary>Asynchronous rounds: collect the next rollout (told to itself, so newer parameters queued before it are loaded first).</summary>
    private sealed record Collect : INoSerializationVerificationNeeded
    {
        public static readonly Collect Instance = new();
    }

    /// <summary>Setting up the environments failed in PreStart; failing on this message instead goes through the supervisor like any failure.</summary>
    private sealed record SetupFailed(WorkerFaultException Cause) : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        // Left in the mailbox of a worker stopped with its run, it is no news; and never a stack trace in a log line.
        public override string ToString() => $"SetupFailed({Cause.Message})";
    }

    private readonly WorkerSettings settings;
    private readonly IActorRef learner;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private VectorEnvironment? environments;
    private Policy? policy;
    private float[] clipped = [];
    private float[] low = [];
    private float[] high = [];
    private int restartSalt;
    private bool awaitingFirstParameters;
    private RewardScaler? rewardScaler;
    private ObservationNormalizer? normalizer;
    private float[] normalized = [];
    private Parameters? newest;
    private bool newestLoaded;
    private int unacknowledged;
    private bool collectQueued;
    private long restoredVersion = -1;

    /// <summary>The layout of <see cref="SaveState"/>'s bytes.</summary>
    private const int StateFormat = 1;

    /// <summary>Creates the worker; prefer <see cref="Props"/>.</summary>
    public WorkerActor(WorkerSettings settings, IActorRef learner)
    {
        this.settings = settings;
        this.learner = learner;
        if (settings.Ahead == 0)
        {
            Receive<Parameters>(OnParameters);
        }
        else
        {
            Receive<Parameters>(OnNewerParameters);
            Receive<Collect>(_ => OnCollect());
        }
        Receive<RolloutRefused>(refused => throw new WorkerFaultException(settings.WorkerId,
            $"Worker {settings.WorkerId}: the learner refused its rollout of version {refused.Version}: {refused.Reason}"));
        Receive<SetupFailed>(failed => throw failed.Cause);
        Receive<RestoreWorker>(OnRestore);
    }

    /// <summary>Props on the compute dispatcher.</summary>
    public static Props Props(WorkerSettings settings, IActorRef learner) =>
        Akka.Actor.Props.Create(() => new WorkerActor(settings, learner)).WithDispatcher(AdvantageConfig.ComputeDispatcher);

    /// <inheritdoc />
    protected override void PreStart()
    {
        TorchThreads.UseOne();
        try
        {
            SetUp();
        }
        catch (Exception e)
        {
            // Thrown from PreStart, Akka would re-create the actor without PreRestart (so without telling the learner)
            // and log every attempt; failing on a message instead is an ordinary failure, counted and supervised.
            policy?.Dispose();
            policy = null;
            environments = null;
            Self.Tell(new SetupFailed(Fault(e)));
            return;
        }
        learner.Tell(new RegisterWorker(settings.WorkerId, settings.Environments));
    }

    /// <summary>Every exception of this worker as a <see cref="WorkerFaultException"/> that says where it happened.</summary>
    private WorkerFaultException Fault(Exception e) => e switch
    {
        WorkerFaultException fault => fault,
        EnvironmentException env => new WorkerFaultException(settings.WorkerId, $"Worker {settings.WorkerId}, environment '{settings.EnvironmentId}' {env.Message}", env.InnerException ?? env),
        _ => new WorkerFaultException(settings.WorkerId, $"Worker {settings.WorkerId} (environment '{settings.EnvironmentId}'): {e.GetType().Name}: {e.Message}", e),
    };

    /// <summary>Every failure in a message handler leaves as a <see cref="WorkerFaultException"/> naming the worker and the environment.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        try
        {
            return base.AroundReceive(receive, message);
        }
        catch (Exception e) when (e is not WorkerFaultException)
        {
            throw Fault(e);
        }
    }

    private void SetUp()
    {
        var envs = new IEnvironment[settings.Environments];
        for (int k = 0; k < envs.Length; k++)
        {
            IEnvironment env;
            try
            {
                env = settings.MakeEnvironment() ?? throw new InvalidOperationException("the factory returned null");
            }
            catch (Exception e)
            {
                throw new WorkerFaultException(settings.WorkerId,
                    $"Worker {settings.WorkerId}, environment '{settings.EnvironmentId}' slot {k}: the factory threw {e.GetType().Name}: {e.Message}", e);
            }
            if (env.ObservationSpace.FlatSize != settings.Spec.ObservationSize)
                throw new InvalidOperationException(
                    $"Environment '{settings.EnvironmentId}' produces observations of {env.ObservationSpace.FlatSize} floats ({env.ObservationSpace}); the network expects {settings.Spec.ObservationSize}.");
            envs[k] = env;
        }
        // Non-finite values stop at the environment that produced them, named, instead of reaching the learner as a rejected rollout.
        environments = new VectorEnvironment(envs) { RequireFinite = true };
        int seed = Seeds.Derive(settings.Seed, restartSalt);
        environments.Reset(seed);
        policy = new Policy(settings.Spec, settings.Environments, Seeds.Derive(seed, 1));
        if (environments.ActionSpace is Box box)
        {
            low = box.Low.ToArray();
            high = box.High.ToArray();
            clipped = new float[settings.Environments * box.FlatSize];
        }
        awaitingFirstParameters = true;
        if (settings.RewardScaling is { } scaling) rewardScaler = new RewardScaler(settings.Environments, scaling);
        normalized = new float[settings.Environments * settings.Spec.ObservationSize];
    }

    /// <inheritdoc />
    protected override void PreRestart(Exception reason, object message)
    {
        // The learner logs the first failure and counts the rest; a line here per restart would repeat it hundreds of times.
        var fault = Fault(reason is ActorInitializationException { InnerException: { } inner } ? inner : reason);
        log.Debug("Worker {0} restarting after: {1}", settings.WorkerId, fault.Message);
        learner.Tell(new WorkerRestarted(settings.WorkerId, fault.Message) { Cause = fault });
        // Keep the actor alive across the restart (no PostStop children logic); dispose native state now.
        policy?.Dispose();
        policy = null;
    }

    /// <inheritdoc />
    protected override void PostRestart(Exception reason)
    {
        // A restart builds a fresh instance, so it cannot count; a new salt keeps the restarted
        // environments from replaying the exact episode that crashed. Runs are reproducible until a crash.
        restartSalt = Environment.TickCount | 1;
        PreStart();
    }

    /// <inheritdoc />
    protected override void PostStop() => policy?.Dispose();

    private void OnParameters(Parameters parameters)
    {
        if (environments is null) return; // set-up failed; SetupFailed is next in the mailbox
        Load(parameters);
        var rollout = CollectRollout(parameters.Version, recordBehaviour: false);
        // The update this rollout feeds writes a checkpoint: the checkpoint carries where this worker stands now.
        bool checkpointNext = settings.CheckpointInterval > 0 && (parameters.Version + 1) % settings.CheckpointInterval == 0;
        learner.Tell(new RolloutCollected(rollout) { WorkerState = checkpointNext && environments.CanSaveState ? SaveState() : null });
    }

    /// <summary>A resumed run's learner hands back the state this worker saved for the checkpoint: continue from it.</summary>
    private void OnRestore(RestoreWorker message)
    {
        // Set-up failed, or parameters came first (a state for a later worker incarnation): fresh episodes then.
        if (environments is null || !awaitingFirstParameters) return;
        try
        {
            RestoreState(message.State);
            restoredVersion = message.Version;
        }
        catch (ArgumentException e)
        {
            log.Warning("Worker {0} cannot continue from the checkpoint's saved state ({1}); it starts fresh episodes.", settings.WorkerId, e.Message);
        }
    }

    /// <summary>
    /// Everything this worker's future depends on besides the parameters: its environments (state, random streams,
    /// episodes in progress), its action sampler and its reward scaling.
    /// </summary>
    private byte[] SaveState()
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(StateFormat);
            byte[] envs = environments!.SaveState();
            w.Write(envs.Length);
            w.Write(envs);
            byte[] sampler = policy!.SaveSampler();
            w.Write(sampler.Length);
            w.Write(sampler);
            w.Write(rewardScaler is not null);
            if (rewardScaler is { } scaler)
            {
                var statistics = scaler.Statistics.Snapshot();
                WriteDoubles(w, [.. scaler.Returns]);
                WriteDoubles(w, statistics.Mean);
                WriteDoubles(w, statistics.Var);
                w.Write(statistics.Count);
            }
        }
        return stream.ToArray();

        static void WriteDoubles(BinaryWriter w, double[] values)
        {
            w.Write(values.Length);
            foreach (double v in values) w.Write(v);
        }
    }

    /// <summary>Continues from what <see cref="SaveState"/> returned.</summary>
    /// <exception cref="ArgumentException">The bytes are not a saved state of a worker like this one.</exception>
    private void RestoreState(byte[] saved)
    {
        byte[] envs, sampler;
        double[]? returns = null, mean = null, variance = null;
        double count = 0;
        using (var r = new BinaryReader(new MemoryStream(saved, writable: false)))
        {
            try
            {
                int format = r.ReadInt32();
                if (format != StateFormat) throw new ArgumentException($"the saved worker state has layout {format}; this build reads {StateFormat}");
                envs = r.ReadBytes(Length(r));
                sampler = r.ReadBytes(Length(r));
                bool scaled = r.ReadBoolean();
                if (scaled != rewardScaler is not null)
                    throw new ArgumentException($"the saved worker {(scaled ? "scaled" : "did not scale")} rewards; this one {(rewardScaler is not null ? "does" : "does not")}");
                if (scaled)
                {
                    returns = ReadDoubles(r);
                    mean = ReadDoubles(r);
                    variance = ReadDoubles(r);
                    count = r.ReadDouble();
                }
                if (r.BaseStream.Position != saved.Length) throw new ArgumentException("the saved worker state has bytes left over");
            }
            catch (EndOfStreamException)
            {
                throw new ArgumentException("the saved worker state is truncated");
            }
        }
        environments!.RestoreState(envs);
        policy!.RestoreSampler(sampler);
        if (rewardScaler is { } scaler)
        {
            scaler.RestoreReturns(returns!);
            scaler.Statistics.Restore(new NormalizerState(mean!, variance!, count));
        }

        static int Length(BinaryReader r)
        {
            int n = r.ReadInt32();
            return n >= 0 && n <= r.BaseStream.Length - r.BaseStream.Position ? n : throw new ArgumentException($"a length of {n} bytes does not fit the saved worker state");
        }

        static double[] ReadDoubles(BinaryReader r)
        {
            int n = r.ReadInt32();
            if (n < 0 || n > (r.BaseStream.Length - r.BaseStream.Position) / 8) throw new ArgumentException($"a length of {n} doubles does not fit the saved worker state");
            var values = new double[n];
            for (int i = 0; i < n; i++) values[i] = r.ReadDouble();
            return values;
        }
    }

    /// <summary>Asynchronous rounds: keep the newest parameters (loaded at the next rollout) and collect if idle.</summary>
    private void OnNewerParameters(Parameters parameters)
    {
        if (newest is null || parameters.Version >= newest.Version)
        {
            newest = parameters;
            newestLoaded = false;
        }
        // Rollouts sent before a restart are acknowledged to the restarted worker too: never below 0.
        unacknowledged = Math.Max(0, unacknowledged - parameters.Acknowledged);
        if (unacknowledged < settings.Ahead) QueueCollect();
    }

    private void OnCollect()
    {
        collectQueued = false;
        if (newest is null || environments is null) return;
        if (!newestLoaded)
        {
            Load(newest);
            newestLoaded = true;
        }
        learner.Tell(new RolloutCollected(CollectRollout(newest.Version, recordBehaviour: true)));
        unacknowledged++;
        if (unacknowledged < settings.Ahead) QueueCollect();
    }

    private void QueueCollect()
    {
        if (collectQueued) return;
        collectQueued = true;
        Self.Tell(Collect.Instance);
    }

    /// <summary>Loads parameters and the statistics sent with them; starts fresh episodes where a resumed worker has no saved state (see the remarks).</summary>
    private void Load(Parameters parameters)
    {
        var envs = environments!;
        var pol = policy!;
        pol.Load(parameters.Values);
        bool resumed = awaitingFirstParameters && parameters.Version > 0;
        // A checkpointing run starts its episodes from the seed derived from (worker seed, version 0), as it always has,
        // so seeded results recorded before episodes ran on across checkpoints stay the same.
        bool firstOfCheckpointingRun = awaitingFirstParameters && parameters.Version == 0 && settings.CheckpointInterval > 0;
        awaitingFirstParameters = false;
        if ((resumed && restoredVersion != parameters.Version) || firstOfCheckpointingRun)
        {
            int seed = Seeds.Derive(Seeds.Derive(settings.Seed, -1), unchecked((int)parameters.Version));
            envs.Reset(seed);
            pol.Reseed(Seeds.Derive(seed, 1));
            if (rewardScaler is { } scaler && settings.RewardScaling is { } scaling)
            {
                // The cut episodes' discounted returns must not run on into the new ones; the statistics carry on.
                var fresh = new RewardScaler(settings.Environments, scaling);
                fresh.Statistics.Restore(scaler.Statistics.Snapshot());
                rewardScaler = fresh;
            }
        }
        normalizer = parameters.ObservationStatistics is { } stats ? new ObservationNormalizer(stats) : null;
    }

    /// <summary>One rollout of T steps with the loaded policy, stamped with <paramref name="version"/>.</summary>
    private Rollout CollectRollout(long version, bool recordBehaviour)
    {
        var envs = environments!;
        var pol = policy!;
        int steps = settings.RolloutLength, k = envs.Count, obs = envs.ObservationSize, width = settings.Spec.ActionWidth;
        var observations = new float[(steps + 1) * k * obs];
        var actions = new float[steps * k * width];
        var rewards = new float[steps * k];
        var terminated = new bool[steps * k];
        var truncated = new bool[steps * k];
        var finalIndices = new List<int>();
        var finalObservations = new List<float>();
        var episodeReturns = new List<double>();
        var episodeLengths = new List<int>();
        var behaviour = recordBehaviour ? new float[steps * k] : [];
        pol.BeginRollout();
        for (int t = 0; t < steps; t++)
        {
            envs.Observations.CopyTo(observations.AsSpan(t * k * obs));
            var act = actions.AsSpan(t * k * width, k * width);
            pol.Act(Normalized(envs.Observations), act, recordBehaviour ? behaviour.AsSpan(t * k, k) : [], deterministic: false);
            envs.Step(ClipToBounds(act));
            var stepRewards = rewards.AsSpan(t * k, k);
            envs.Rewards.CopyTo(stepRewards);
            rewardScaler?.Scale(stepRewards, envs.Terminated, envs.Truncated);
            envs.Terminated.CopyTo(terminated.AsSpan(t * k, k));
            envs.Truncated.CopyTo(truncated.AsSpan(t * k, k));
            if (envs.FinishedCount > 0)
            {
                for (int i = 0; i < k; i++)
                {
                    bool term = envs.Terminated[i], trunc = envs.Truncated[i];
                    if (!term && !trunc) continue;
                    episodeReturns.Add(envs.FinishedReturns[i]);
                    episodeLengths.Add(envs.FinishedLengths[i]);
                    if (trunc && !term)
                    {
                        finalIndices.Add(t * k + i);
                        foreach (float f in envs.FinalObservations.Slice(i * obs, obs)) finalObservations.Add(f);
                    }
                }
            }
        }
        envs.Observations.CopyTo(observations.AsSpan(steps * k * obs));
        return new Rollout(settings.WorkerId, version, steps, k, obs, width, observations, actions, rewards,
            terminated, truncated, finalIndices.ToArray(), finalObservations.ToArray(), episodeReturns.ToArray(), episodeLengths.ToArray())
        {
            BehaviourLogProbs = behaviour,
        };
    }

    /// <summary>Observations as the network sees them: normalised with the learner's statistics when it sends them.</summary>
    private ReadOnlySpan<float> Normalized(ReadOnlySpan<float> observations)
    {
        if (normalizer is null) return observations;
        normalizer.Normalize(observations, normalized);
        return normalized;
    }

    private ReadOnlySpan<float> ClipToBounds(ReadOnlySpan<float> actions)
    {
        if (clipped.Length == 0) return actions;
        int d = low.Length;
        for (int i = 0; i < actions.Length; i++) clipped[i] = Math.Clamp(actions[i], low[i % d], high[i % d]);
        return clipped;
    }
}
