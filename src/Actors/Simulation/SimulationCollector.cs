using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;
using Akka.Event;

namespace Advantage.Actors.Simulation;

/// <summary>What one collector needs: its id towards the learner, its columns, T, the network and the timeout.</summary>
/// <param name="WorkerId">The id it registers with (a simulation takes the place of a worker).</param>
/// <param name="Streams">K: columns of each rollout, one per agent stream.</param>
/// <param name="RolloutLength">T.</param>
/// <param name="Spec">The network, shared with the learner.</param>
/// <param name="Seed">Seeds action sampling.</param>
/// <param name="StreamTimeout">A stream the collector waits on that stays silent this long is dropped from the rollout; <see cref="TimeSpan.Zero"/> never.</param>
/// <param name="Ahead">0: synchronous rounds; else how many rollouts may be unacknowledged by an asynchronous learner.</param>
/// <param name="ActionBounds">A Box action space's bounds the replied actions are clipped to (the rollout keeps them unclipped); null for none.</param>
/// <param name="RunAhead">A stream whose column is full goes on into the next rollout's rows with the parameters at hand (see <see cref="SimulationOptions.RunAhead"/>).</param>
internal sealed record CollectorSettings(int WorkerId, int Streams, int RolloutLength, NetworkSpec Spec, int Seed, TimeSpan StreamTimeout, int Ahead, Box? ActionBounds, bool RunAhead = false)
{
    /// <summary>What a silent stream leaves in the rollout (see <see cref="SilentStreamHandling"/>).</summary>
    public SilentStreamHandling SilentStreams { get; init; } = SilentStreamHandling.Drop;

    /// <summary>Per-stream reward scaling by the running discounted return (the run's <see cref="AlgorithmOptions.NormalizeRewards"/>); null leaves rewards raw.</summary>
    public RewardScalerOptions? RewardScaling { get; init; }

    /// <summary>See <see cref="SimulationOptions.RoundTimeout"/>; <see cref="TimeSpan.Zero"/> never.</summary>
    public TimeSpan RoundTimeout { get; init; }
}

/// <summary>
/// The gateway between a user's actor simulation and a learner: a worker whose environments are the simulation's agent
/// streams. It registers with the learner like a <see cref="WorkerActor"/>, answers each <see cref="Decide"/> with the
/// parameters it holds (pending decisions share one forward pass), records each <see cref="Outcome"/> in the stream's
/// column, and sends a <see cref="Rollout"/> of T x K steps (with behaviour log-probabilities) when every column is full.
/// </summary>
/// <remarks>
/// <para>
/// Columns are streams: column k of every rollout is stream k's next T steps. A stream whose column is full (it asked for
/// its T+1-th action: that observation is the column's bootstrap row) is answered once the next rollout starts: in
/// synchronous rounds when the learner's next parameters arrive, in asynchronous rounds at once unless the learner has
/// <see cref="CollectorSettings.Ahead"/> of this collector's rollouts unacknowledged. Nothing blocks: a decision owed is
/// just a reply sent later.
/// </para>
/// <para>
/// Edges. An episode that ends mid-rollout is flagged at its step (truncation keeps its final observation for the
/// bootstrap). A stream that asks again before reporting its last action restarted: the unreported step is discarded, the
/// previous step is cut as truncated (bootstrapped from the discarded observation), and its partial episode is not
/// reported. A stream the collector waits on that is silent for <see cref="CollectorSettings.StreamTimeout"/> is dropped:
/// its partial column is discarded (counted) and the rollout goes on with the other columns (a rollout then has fewer
/// than K columns); when it speaks again it rejoins at the next rollout. Requests and reports that are malformed or for an
/// action never asked for are refused with a reply and counted.
/// </para>
/// </remarks>
internal sealed class SimulationCollector : ReceiveActor, IWithTimers
{
    private sealed record Flush
    {
        public static readonly Flush Instance = new();
    }

    private sealed record SilenceTick
    {
        public static readonly SilenceTick Instance = new();
    }

    private sealed record StallTick
    {
        public static readonly StallTick Instance = new();
    }

    private readonly CollectorSettings settings;
    private readonly IActorRef learner;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly int k, t, obs, width, rows;
    private Policy? policy;
    private ObservationNormalizer? normalizer;

    // Rows 0..T-1 are the rollout being filled; with RunAhead, rows T..2T-1 hold a stream's steps of the next one
    // (acted while the rollout waited for other streams or for the learner). Time-major, K columns.
    private readonly float[] observations, actions, rewards, behaviour;
    private readonly long[] versions;
    private readonly bool[] terminated, truncated;
    private readonly List<(int Index, float[] Observation)> finals = [];
    private readonly List<(int Row, double Return, int Length)> finished = [];

    // Per stream.
    private readonly int[] filled; // steps recorded (outcomes), 0..2T
    private readonly bool[] included, silent, outstanding, late;
    private readonly IActorRef?[] waiting; // a Decide not answered yet (its observation is in row filled[s])
    private readonly float[]?[] heldObservation; // a returning stream's observation, for the next rollout's row 0
    private readonly DateTime[] lastHeard;
    private readonly double[] episodeReturn;
    private readonly int[] episodeLength;
    private readonly int[] kept; // a silent stream's bootstrapped partial column: its first kept[s] rows, continued when it returns
    private readonly RewardScaler? scaler;

    private Parameters? current;
    private bool awaitingParameters = true;
    private int unacknowledged;
    private DateTime? blockedSince, roundWaitSince;
    private bool warnedThisRound;
    private long stalledRollouts;
    private bool flushQueued;
    private readonly float[] batchObservations, batchActions, batchLogProbs;
    private long decisions, passes, stepCount, rollouts, episodes, refusedDecisions, refusedOutcomes, silentStreams, droppedSteps, restarts, bootstrappedSteps;

    internal SimulationCollector(CollectorSettings settings, IActorRef learner)
    {
        this.settings = settings;
        this.learner = learner;
        k = settings.Streams;
        t = settings.RolloutLength;
        obs = settings.Spec.ObservationSize;
        width = settings.Spec.ActionWidth;
        rows = settings.RunAhead ? 2 * t : t;
        observations = new float[(rows + 1) * k * obs];
        actions = new float[rows * k * width];
        rewards = new float[rows * k];
        behaviour = new float[rows * k];
        versions = new long[rows * k];
        terminated = new bool[rows * k];
        truncated = new bool[rows * k];
        filled = new int[k];
        included = new bool[k];
        silent = new bool[k];
        outstanding = new bool[k];
        late = new bool[k];
        waiting = new IActorRef?[k];
        heldObservation = new float[]?[k];
        lastHeard = new DateTime[k];
        episodeReturn = new double[k];
        episodeLength = new int[k];
        kept = new int[k];
        scaler = settings.RewardScaling is { } scaling ? new RewardScaler(k, scaling) : null;
        batchObservations = new float[k * obs];
        batchActions = new float[k * width];
        batchLogProbs = new float[k];
        Array.Fill(included, true);
        Receive<Decide>(OnDecide);
        Receive<Outcome>(OnOutcome);
        Receive<Flush>(_ => OnFlush());
        Receive<Parameters>(OnParameters);
        Receive<RolloutRefused>(refused =>
        {
            // The learner refused a rollout (it should not happen: the collector checks what it records); register
            // again so a synchronous round gets this collector's next rollout instead of waiting forever.
            log.Warning("Simulation {0}: the learner refused a rollout of version {1}: {2}", settings.WorkerId, refused.Version, refused.Reason);
            learner.Tell(new RegisterWorker(settings.WorkerId, k));
        });
        Receive<SilenceTick>(_ => OnSilenceTick());
        Receive<StallTick>(_ => OnStallTick());
        Receive<GetSimulationStatistics>(_ => Sender.Tell(Statistics()));
        // The run is over: nothing more to collect for.
        Receive<Terminated>(terminated =>
        {
            if (terminated.ActorRef.Equals(learner)) Context.Stop(Self);
        });
    }

    internal static Props Props(CollectorSettings settings, IActorRef learner) =>
        Akka.Actor.Props.CreateBy(new Producer(() => new SimulationCollector(settings, learner))).WithDispatcher(AdvantageConfig.ComputeDispatcher);

    /// <summary>Creates the collector through its internal constructor, which Akka's reflection-based Props cannot reach.</summary>
    private sealed class Producer(Func<SimulationCollector> create) : IIndirectActorProducer
    {
        public Type ActorType => typeof(SimulationCollector);

        public ActorBase Produce() => create();

        public void Release(ActorBase actor)
        {
        }
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <inheritdoc />
    protected override void PreStart()
    {
        TorchThreads.UseOne();
        policy = new Policy(settings.Spec, k, settings.Seed);
        var now = DateTime.UtcNow;
        Array.Fill(lastHeard, now);
        if (settings.StreamTimeout > TimeSpan.Zero)
        {
            var tick = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(5).Ticks, settings.StreamTimeout.Ticks / 4));
            Timers.StartPeriodicTimer("silence", SilenceTick.Instance, tick);
        }
        if (settings.RoundTimeout > TimeSpan.Zero)
        {
            var tick = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(5).Ticks, settings.RoundTimeout.Ticks / 4));
            Timers.StartPeriodicTimer("stall", StallTick.Instance, tick);
        }
        Context.Watch(learner);
        learner.Tell(new RegisterWorker(settings.WorkerId, k));
    }

    /// <inheritdoc />
    protected override void PostStop() => policy?.Dispose();

    private SimulationStatistics Statistics() =>
        new(decisions, passes, stepCount, rollouts, episodes, refusedDecisions, refusedOutcomes, silentStreams, droppedSteps, restarts) { BootstrappedSteps = bootstrappedSteps, StalledRollouts = stalledRollouts };

    /// <summary>Whether the decision for row <paramref name="row"/> may be answered now.</summary>
    private bool CanActAt(int row) =>
        current is not null && (row < t ? !awaitingParameters : row < rows);

    private string? ObservationProblem(float[]? observation, string name)
    {
        if (observation is null) return $"{name} is null; expected {obs} floats.";
        if (observation.Length != obs) return $"{name} has {observation.Length} floats; expected {obs}.";
        foreach (float f in observation)
            if (!float.IsFinite(f)) return $"{name} holds a non-finite value ({f}).";
        return null;
    }

    private void OnDecide(Decide decide)
    {
        int s = decide.Stream;
        string? problem = s < 0 || s >= k ? $"Stream = {s} is outside [0, {k - 1}] (this simulation has {k} streams)."
            : waiting[s] is not null ? $"Stream {s} already has a decision pending."
            : ObservationProblem(decide.Observation, nameof(Decide.Observation));
        if (problem is not null)
        {
            refusedDecisions++;
            Sender.Tell(new DecisionRefused(s, problem));
            return;
        }
        lastHeard[s] = DateTime.UtcNow;
        late[s] = false;
        if (silent[s] || !included[s])
        {
            // Back after a silence: it rejoins at the next rollout (or now, when this one has not started).
            silent[s] = false;
            if (RolloutEmpty())
            {
                included[s] = true;
                filled[s] = Rejoin(s);
            }
            else
            {
                heldObservation[s] = decide.Observation;
                waiting[s] = Sender;
                return;
            }
        }
        if (outstanding[s]) Restarted(s);
        int row = filled[s];
        decide.Observation.CopyTo(observations, (row * k + s) * obs);
        waiting[s] = Sender;
        if (row == t) TryCompleteRollout();
        QueueFlush();
    }

    /// <summary>The stream asked again with its last action unreported: discard that step, cut the one before (bootstrapped).</summary>
    private void Restarted(int s)
    {
        restarts++;
        outstanding[s] = false;
        scaler?.ResetReturn(s);
        episodeReturn[s] = 0;
        episodeLength[s] = 0;
        int row = filled[s];
        if (row == 0) return; // the previous rollout already bootstrapped from the discarded observation
        int index = (row - 1) * k + s;
        if (terminated[index] || truncated[index]) return;
        truncated[index] = true;
        // The previous step's successor was the discarded observation, still in row `row`: that is the final observation.
        var final = new float[obs];
        Array.Copy(observations, (row * k + s) * obs, final, 0, obs);
        finals.Add((index, final));
    }

    private bool RolloutEmpty()
    {
        for (int s = 0; s < k; s++)
            if (included[s] && (filled[s] > 0 || outstanding[s])) return false;
        return true;
    }

    private void QueueFlush()
    {
        if (flushQueued || current is null) return;
        flushQueued = true;
        Self.Tell(Flush.Instance);
    }

    /// <summary>Answers every pending decision that may be answered with one forward pass.</summary>
    private void OnFlush()
    {
        flushQueued = false;
        if (current is null) return;
        Span<int> streams = stackalloc int[k];
        int n = 0;
        for (int s = 0; s < k; s++)
        {
            if (waiting[s] is null || !included[s] || outstanding[s] || !CanActAt(filled[s])) continue;
            var source = observations.AsSpan((filled[s] * k + s) * obs, obs);
            if (normalizer is null) source.CopyTo(batchObservations.AsSpan(n * obs, obs));
            else normalizer.Normalize(source, batchObservations.AsSpan(n * obs, obs));
            streams[n++] = s;
        }
        if (n == 0) return;
        Array.Clear(batchObservations, n * obs, (k - n) * obs);
        policy!.Act(batchObservations, batchActions, batchLogProbs, deterministic: false);
        passes++;
        long version = current.Version;
        var now = DateTime.UtcNow;
        for (int i = 0; i < n; i++)
        {
            int s = streams[i], index = filled[s] * k + s;
            var chosen = batchActions.AsSpan(i * width, width);
            chosen.CopyTo(actions.AsSpan(index * width, width));
            behaviour[index] = batchLogProbs[i];
            versions[index] = version;
            var action = chosen.ToArray();
            if (settings.ActionBounds is { } box)
                for (int d = 0; d < width; d++) action[d] = Math.Clamp(action[d], box.Low[d], box.High[d]);
            outstanding[s] = true;
            lastHeard[s] = now;
            var to = waiting[s]!;
            waiting[s] = null;
            decisions++;
            to.Tell(new Decision(s, action, version));
        }
    }

    private void OnOutcome(Outcome outcome)
    {
        int s = outcome.Stream;
        if (s >= 0 && s < k && late[s] && !outstanding[s])
        {
            // The outcome of an action whose step was cut when the rollout stopped waiting for this stream: already counted.
            late[s] = false;
            lastHeard[s] = DateTime.UtcNow;
            return;
        }
        string? problem = s < 0 || s >= k ? $"Stream = {s} is outside [0, {k - 1}] (this simulation has {k} streams)."
            : !outstanding[s] ? $"Stream {s} has no action awaiting an outcome (never asked for, or already reported)."
            : !double.IsFinite(outcome.Reward) ? $"Reward = {outcome.Reward} is not finite."
            : outcome.Truncated && !outcome.Terminated ? ObservationProblem(outcome.FinalObservation, nameof(Outcome.FinalObservation))
            : null;
        if (problem is not null)
        {
            refusedOutcomes++;
            Sender.Tell(new OutcomeRefused(s, problem));
            return;
        }
        lastHeard[s] = DateTime.UtcNow;
        outstanding[s] = false;
        int row = filled[s], index = row * k + s;
        // Scaled per stream by its running discounted return, as a worker scales each environment's rewards; the episode's
        // return reported to the learner stays raw.
        rewards[index] = scaler is null ? (float)outcome.Reward : (float)scaler.Scale(s, outcome.Reward, outcome.Terminated, outcome.Truncated);
        terminated[index] = outcome.Terminated;
        truncated[index] = outcome.Truncated;
        if (outcome.Truncated && !outcome.Terminated) finals.Add((index, outcome.FinalObservation!));
        episodeReturn[s] += outcome.Reward;
        episodeLength[s]++;
        if (outcome.Terminated || outcome.Truncated)
        {
            finished.Add((row, episodeReturn[s], episodeLength[s]));
            episodeReturn[s] = 0;
            episodeLength[s] = 0;
        }
        filled[s]++;
        stepCount++;
    }

    private void OnSilenceTick()
    {
        var deadline = DateTime.UtcNow - settings.StreamTimeout;
        bool dropped = false;
        for (int s = 0; s < k; s++)
        {
            // Only a stream the collector waits on can be silent: one whose decision the collector owes is not, nor one whose
            // column of this rollout is already complete.
            if (!included[s] || waiting[s] is not null || Ready(s) || lastHeard[s] > deadline) continue;
            silentStreams++;
            CutStream(s, $"was silent for {settings.StreamTimeout.TotalMilliseconds} ms");
            dropped = true;
        }
        if (!dropped) return;
        TryCompleteRollout();
        if (settings.Ahead == 0 && !awaitingParameters && !included.Any(i => i))
            log.Warning("Simulation {0}: every one of its {1} streams has been silent for {2:0.#} s, so it has no rollout for the synchronous round, " +
                "which waits for it (and so does every other simulation); it goes on when a stream speaks again.",
                settings.WorkerId, k, settings.StreamTimeout.TotalSeconds);
    }

    /// <summary>
    /// Takes stream <paramref name="s"/> out of the rollout being filled: its partial column is dropped or kept and bootstrapped
    /// (<see cref="CollectorSettings.SilentStreams"/>), counted; it rejoins when it next asks for a decision.
    /// </summary>
    private void CutStream(int s, string why)
    {
        int keep = settings.SilentStreams == SilentStreamHandling.Bootstrap ? Cut(s) : 0;
        kept[s] = keep;
        bootstrappedSteps += keep;
        droppedSteps += filled[s] - keep;
        if (keep > 0)
            log.Info("Simulation {0}: stream {1} {2}; {3} of its {4} steps of this rollout are kept, bootstrapped from its last observation, until it returns.",
                settings.WorkerId, s, why, keep, filled[s]);
        else
            log.Info("Simulation {0}: stream {1} {2}; its {3} steps of this rollout are dropped.", settings.WorkerId, s, why, filled[s]);
        // An action it was given and has not reported on is no step any more; its outcome, when it comes, is let go quietly.
        if (outstanding[s]) late[s] = true;
        scaler?.ResetReturn(s);
        silent[s] = true;
        included[s] = false;
        outstanding[s] = false;
        filled[s] = 0;
        episodeReturn[s] = 0;
        episodeLength[s] = 0;
    }

    /// <summary>
    /// A decision owed to a stream that cannot be answered until the rollout completes (the stream ran ahead as far as it may)
    /// while other streams of the rollout are slow: past <see cref="CollectorSettings.RoundTimeout"/> the slow streams are cut,
    /// so the rollout goes with the columns that produced instead of waiting on entities that may be waiting on the blocked one.
    /// </summary>
    private void OnStallTick()
    {
        WarnIfTheRoundWaitsForOthers();
        bool blocked = false;
        if (current is not null && !awaitingParameters)
            for (int s = 0; s < k && !blocked; s++)
                blocked = waiting[s] is not null && (!included[s] || !CanActAt(filled[s]));
        if (!blocked)
        {
            blockedSince = null;
            return;
        }
        var now = DateTime.UtcNow;
        blockedSince ??= now;
        if (now - blockedSince.Value < settings.RoundTimeout) return;
        blockedSince = null;
        int cut = 0;
        for (int s = 0; s < k; s++)
        {
            // A stream whose decision is about to be answered is not slow (its flush is queued behind this tick).
            if (!included[s] || Ready(s) || waiting[s] is not null) continue;
            CutStream(s, $"kept the rollout waiting for {settings.RoundTimeout.TotalMilliseconds} ms while another stream waited for its decision");
            cut++;
        }
        if (cut == 0) return;
        stalledRollouts++;
        TryCompleteRollout();
    }

    /// <summary>
    /// Cuts a silent stream's partial column for <see cref="SilentStreamHandling.Bootstrap"/>: the last step whose successor is
    /// known ends it, truncated and bootstrapped from the stream's last observation. Returns the steps kept (rows 0..n-1).
    /// </summary>
    private int Cut(int s)
    {
        int n = filled[s];
        if (n == 0) return 0;
        int last;
        if (outstanding[s])
        {
            // The unreported action is not a step; the observation it was chosen for (row n) is the last one known.
            last = n;
        }
        else
        {
            int end = (n - 1) * k + s;
            if (terminated[end] || truncated[end]) return n; // an episode boundary: nothing to bootstrap
            // Step n-1's successor never came: that step goes, and its observation (row n-1) is the last one known.
            last = n - 1;
            if (last == 0) return 0;
        }
        int index = (last - 1) * k + s;
        if (!terminated[index] && !truncated[index])
        {
            truncated[index] = true;
            var final = new float[obs];
            Array.Copy(observations, (last * k + s) * obs, final, 0, obs);
            finals.Add((index, final));
        }
        return last;
    }

    /// <summary>
    /// A silent stream speaks again: the row its column goes on from. A bootstrapped partial column (<see cref="kept"/>) is
    /// continued, except in asynchronous rounds when the parameters moved on since (its steps would be older than the
    /// learner's lag limit allows, and the whole rollout refused): then it is dropped and counted as such.
    /// </summary>
    private int Rejoin(int s)
    {
        int m = kept[s];
        kept[s] = 0;
        if (m == 0) return 0;
        if (settings.Ahead > 0 && current is not null)
        {
            long oldest = long.MaxValue;
            for (int row = 0; row < m; row++) oldest = Math.Min(oldest, versions[row * k + s]);
            if (oldest < current.Version)
            {
                bootstrappedSteps -= m;
                droppedSteps += m;
                finals.RemoveAll(f => f.Index % k == s && f.Index / k < m);
                for (int row = 0; row < m; row++)
                {
                    terminated[row * k + s] = false;
                    truncated[row * k + s] = false;
                }
                return 0;
            }
        }
        return m;
    }

    /// <summary>The stream's column of this rollout is complete: T steps and the bootstrap observation (row T) are in.</summary>
    private bool Ready(int s) => filled[s] > t || (filled[s] == t && (waiting[s] is not null || outstanding[s]));

    /// <summary>Sends the rollout once every included column is complete.</summary>
    private void TryCompleteRollout()
    {
        int columns = 0;
        for (int s = 0; s < k; s++)
        {
            if (!included[s]) continue;
            if (!Ready(s)) return;
            columns++;
        }
        if (columns == 0 || current is null || awaitingParameters) return;
        learner.Tell(new RolloutCollected(Build(columns)));
        rollouts++;
        if (settings.Ahead == 0)
        {
            awaitingParameters = true;
            return;
        }
        unacknowledged++;
        if (unacknowledged >= settings.Ahead) awaitingParameters = true;
        else StartNext();
    }

    /// <summary>Rows 0..T of the included columns as one rollout; finished episodes and final observations of those rows.</summary>
    private Rollout Build(int columns)
    {
        var map = new int[k];
        int c = 0;
        for (int s = 0; s < k; s++) map[s] = included[s] ? c++ : -1;
        var o = new float[(t + 1) * columns * obs];
        var a = new float[t * columns * width];
        var r = new float[t * columns];
        var mu = new float[t * columns];
        var term = new bool[t * columns];
        var trunc = new bool[t * columns];
        long oldest = current!.Version;
        for (int row = 0; row <= t; row++)
        {
            for (int s = 0; s < k; s++)
            {
                if (map[s] < 0) continue;
                int from = row * k + s, to = row * columns + map[s];
                Array.Copy(observations, from * obs, o, to * obs, obs);
                if (row == t) continue;
                Array.Copy(actions, from * width, a, to * width, width);
                r[to] = rewards[from];
                mu[to] = behaviour[from];
                term[to] = terminated[from];
                trunc[to] = truncated[from];
                oldest = Math.Min(oldest, versions[from]);
            }
        }
        var kept = finals.Where(f => f.Index < t * k && map[f.Index % k] >= 0)
            .Select(f => (Index: f.Index / k * columns + map[f.Index % k], f.Observation))
            .OrderBy(f => f.Index).ToArray();
        var done = finished.Where(e => e.Row < t).ToArray();
        // Synchronous rounds stamp the round's version (the learner holds those parameters); asynchronous ones the oldest
        // that acted, so the learner's lag limit is never fooled, with the behaviour log-probabilities for V-trace.
        var rollout = new Rollout(settings.WorkerId, settings.Ahead == 0 ? current.Version : oldest, t, columns, obs, width, o, a, r, term, trunc,
            kept.Select(f => f.Index).ToArray(), kept.SelectMany(f => f.Observation).ToArray(),
            done.Select(e => e.Return).ToArray(), done.Select(e => e.Length).ToArray())
        {
            BehaviourLogProbs = settings.Ahead == 0 ? [] : mu,
        };
        episodes += done.Length;
        return rollout;
    }

    /// <summary>
    /// Starts the next rollout: rows T..2T (steps streams took ahead, and each bootstrap row) move to rows 0..T, returning
    /// streams' observations become row 0, and pending decisions are answered.
    /// </summary>
    private void StartNext()
    {
        warnedThisRound = false;
        roundWaitSince = null;
        var fragments = SaveFragments();
        int shift = t * k;
        Array.Copy(observations, shift * obs, observations, 0, (rows + 1 - t) * k * obs);
        Array.Clear(observations, (rows + 1 - t) * k * obs, observations.Length - (rows + 1 - t) * k * obs);
        if (rows > t)
        {
            Array.Copy(actions, shift * width, actions, 0, (rows - t) * k * width);
            Array.Copy(rewards, shift, rewards, 0, (rows - t) * k);
            Array.Copy(behaviour, shift, behaviour, 0, (rows - t) * k);
            Array.Copy(versions, shift, versions, 0, (rows - t) * k);
            Array.Copy(terminated, shift, terminated, 0, (rows - t) * k);
            Array.Copy(truncated, shift, truncated, 0, (rows - t) * k);
        }
        Array.Clear(rewards, (rows - t) * k, t * k);
        Array.Clear(terminated, (rows - t) * k, t * k);
        Array.Clear(truncated, (rows - t) * k, t * k);
        var laterFinals = finals.Where(f => f.Index >= shift).Select(f => (f.Index - shift, f.Observation)).ToList();
        finals.Clear();
        finals.AddRange(laterFinals);
        var laterEpisodes = finished.Where(e => e.Row >= t).Select(e => (e.Row - t, e.Return, e.Length)).ToList();
        finished.Clear();
        finished.AddRange(laterEpisodes);
        RestoreFragments(fragments);
        for (int s = 0; s < k; s++)
        {
            if (heldObservation[s] is { } held)
            {
                int row = Rejoin(s);
                held.CopyTo(observations, (row * k + s) * obs);
                heldObservation[s] = null;
                included[s] = true;
                filled[s] = row;
            }
            else if (included[s])
            {
                filled[s] -= t;
            }
            else
            {
                filled[s] = 0;
            }
        }
        awaitingParameters = false;
        QueueFlush();
    }

    /// <summary>
    /// In synchronous rounds this simulation's rollout is in, its streams wait for decisions, and the learner's next parameters
    /// have not come for twice <see cref="CollectorSettings.RoundTimeout"/>: the round waits for other simulations. That may be a
    /// slow simulation, or a deadlock (simulations sharing one clock, the others' entities waiting on this one's), which no
    /// single gateway can tell apart: only the learner ends that wait (it closes the round short after its own RoundTimeout,
    /// counted from the round's first rollout). When it does not (its RoundTimeout is zero, or longer than this gateway's on
    /// a cluster), it is said once per round, with the cause and the ways out.
    /// </summary>
    private void WarnIfTheRoundWaitsForOthers()
    {
        bool owed = false;
        if (settings.Ahead == 0 && current is not null && awaitingParameters && rollouts > 0)
            for (int s = 0; s < k && !owed; s++) owed = waiting[s] is not null;
        if (!owed)
        {
            roundWaitSince = null;
            return;
        }
        var now = DateTime.UtcNow;
        roundWaitSince ??= now;
        // The learner closes a round short RoundTimeout after its first rollout (simulation runs): waiting twice that means it
        // does not (its own RoundTimeout is zero or longer), and a round it closes on time is not worth a warning each.
        if (warnedThisRound || now - roundWaitSince.Value < 2 * settings.RoundTimeout) return;
        warnedThisRound = true;
        int streams = waiting.Count(w => w is not null);
        log.Warning("Simulation {0}: {1} of its streams have waited {2:0.#} s for their decisions: its rollout is in, and the synchronous round " +
            "waits for the other simulations' rollouts. If the simulations share a clock (their entities wait for each other), the round " +
            "cannot fill until the learner closes it without them (its SimulationOptions.RoundTimeout; zero waits forever): drive them " +
            "through one gateway (SimulationOptions.Simulations = 1; its slow streams are cut after RoundTimeout), or train with IMPALA " +
            "(asynchronous rounds wait for no simulation).", settings.WorkerId, streams, (now - roundWaitSince.Value).TotalSeconds);
    }

    private sealed record Fragment(int Stream, int Rows, float[] Observations, float[] Actions, float[] Rewards, float[] Behaviour, long[] Versions,
        bool[] Terminated, bool[] Truncated, (int Index, float[] Observation)[] Finals);

    /// <summary>The bootstrapped partial columns of silent streams (rows 0..kept-1), which the next rollout keeps in place.</summary>
    private List<Fragment> SaveFragments()
    {
        var saved = new List<Fragment>();
        for (int s = 0; s < k; s++)
        {
            int m = kept[s];
            if (m == 0) continue;
            var o = new float[m * obs];
            var a = new float[m * width];
            var r = new float[m];
            var mu = new float[m];
            var v = new long[m];
            var term = new bool[m];
            var trunc = new bool[m];
            for (int row = 0; row < m; row++)
            {
                int i = row * k + s;
                Array.Copy(observations, i * obs, o, row * obs, obs);
                Array.Copy(actions, i * width, a, row * width, width);
                (r[row], mu[row], v[row], term[row], trunc[row]) = (rewards[i], behaviour[i], versions[i], terminated[i], truncated[i]);
            }
            saved.Add(new Fragment(s, m, o, a, r, mu, v, term, trunc, finals.Where(f => f.Index % k == s && f.Index / k < m).ToArray()));
        }
        return saved;
    }

    private void RestoreFragments(List<Fragment> fragments)
    {
        foreach (var f in fragments)
        {
            int s = f.Stream;
            for (int row = 0; row < f.Rows; row++)
            {
                int i = row * k + s;
                Array.Copy(f.Observations, row * obs, observations, i * obs, obs);
                Array.Copy(f.Actions, row * width, actions, i * width, width);
                (rewards[i], behaviour[i], versions[i], terminated[i], truncated[i]) = (f.Rewards[row], f.Behaviour[row], f.Versions[row], f.Terminated[row], f.Truncated[row]);
            }
            // Rows after the fragment may hold what the shift brought for this (excluded) column: no flags of another episode.
            for (int row = f.Rows; row < rows; row++)
            {
                terminated[row * k + s] = false;
                truncated[row * k + s] = false;
            }
            finals.RemoveAll(x => x.Index % k == s);
            finals.AddRange(f.Finals);
        }
    }

    private void OnParameters(Parameters parameters)
    {
        if (settings.Ahead > 0)
        {
            unacknowledged = Math.Max(0, unacknowledged - parameters.Acknowledged);
            bool first = current is null;
            if (current is null || parameters.Version >= current.Version) Load(parameters);
            if (first) awaitingParameters = false;
            else if (awaitingParameters && unacknowledged < settings.Ahead) StartNext();
            QueueFlush();
            TryCompleteRollout();
            return;
        }
        if (!awaitingParameters)
        {
            // Newer parameters while this rollout fills: the learner closed a round without this simulation (it was slow or
            // waited on another's entities; SimulationOptions.RoundTimeout). Acting on with them stamps this rollout with the
            // round the learner is in, so it joins that round instead of arriving stale; its earlier steps were chosen by the
            // previous version, slightly off-policy as run-ahead steps are. An equal or older version is a repeat: ignored.
            if (current is not null && parameters.Version > current.Version)
            {
                Load(parameters);
                QueueFlush();
            }
            return;
        }
        bool initial = current is null;
        Load(parameters);
        if (initial)
        {
            awaitingParameters = false;
            QueueFlush();
        }
        else
        {
            StartNext();
        }
        TryCompleteRollout();
    }

    private void Load(Parameters parameters)
    {
        policy!.Load(parameters.Values);
        // gSDE's exploration matrices are drawn afresh with each round's parameters, as a worker's are with each rollout.
        policy.BeginRollout();
        normalizer = parameters.ObservationStatistics is { } stats ? new ObservationNormalizer(stats) : null;
        current = parameters;
    }
}
