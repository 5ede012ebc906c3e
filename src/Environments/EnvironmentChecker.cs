using System.Globalization;

namespace Advantage.Environments;

/// <summary>How bad a <see cref="EnvironmentFinding"/> is.</summary>
public enum FindingSeverity
{
    /// <summary>Legal but probably not meant (infinite bounds, a seed that changes nothing); training goes ahead.</summary>
    Warning,

    /// <summary>Breaks the contract training relies on (wrong lengths, non-finite values, a non-reproducible reset); a run refuses to start.</summary>
    Error,
}

/// <summary>Which part of the environment a <see cref="EnvironmentFinding"/> is about.</summary>
public enum EnvironmentMethod
{
    /// <summary>The factory that makes the environment (it threw, returned null, or returned one instance twice).</summary>
    Factory,

    /// <summary><see cref="IEnvironment.ObservationSpace"/>.</summary>
    ObservationSpace,

    /// <summary><see cref="IEnvironment.ActionSpace"/>.</summary>
    ActionSpace,

    /// <summary><see cref="IEnvironment.Reset"/>.</summary>
    Reset,

    /// <summary><see cref="IEnvironment.Step"/>.</summary>
    Step,
}

/// <summary>
/// One problem <see cref="EnvironmentChecker"/> found, located precisely enough to fix without a debugger: the method,
/// the step of the episode and the element of the observation where it showed.
/// </summary>
/// <param name="Severity">Error (training would refuse the environment) or warning.</param>
/// <param name="Method">The method or member that showed it.</param>
/// <param name="Step">For <see cref="EnvironmentMethod.Step"/>: the 1-based step of the episode (steps since its reset); otherwise null.</param>
/// <param name="Element">The index into the flat observation (or action) where it showed; null when it is not about one element.</param>
/// <param name="Message">What is wrong and what the contract expects, in one line.</param>
public sealed record EnvironmentFinding(FindingSeverity Severity, EnvironmentMethod Method, int? Step, int? Element, string Message)
{
    /// <summary>One line: severity, where, what.</summary>
    public override string ToString() =>
        $"{(Severity == FindingSeverity.Error ? "error" : "warning")}: {Method}" +
        $"{(Step is int s ? string.Create(CultureInfo.InvariantCulture, $", step {s}") : "")}" +
        $"{(Element is int e ? string.Create(CultureInfo.InvariantCulture, $", element {e}") : "")}: {Message}";
}

/// <summary>What <see cref="EnvironmentChecker"/> found about one environment.</summary>
/// <param name="Environment">The environment's name (its id, or its type's name).</param>
/// <param name="Findings">Every finding, errors and warnings, in the order they were found; empty when clean.</param>
/// <param name="Steps">Steps taken by the check, across every episode and replay.</param>
/// <param name="Episodes">Episodes that ended (terminated or truncated) during the random-action part of the check.</param>
public sealed record EnvironmentCheckReport(string Environment, IReadOnlyList<EnvironmentFinding> Findings, int Steps, int Episodes)
{
    /// <summary>True when any finding is an error: training refuses such an environment.</summary>
    public bool HasErrors => Findings.Any(f => f.Severity == FindingSeverity.Error);

    /// <summary>The errors only.</summary>
    public IReadOnlyList<EnvironmentFinding> Errors => Findings.Where(f => f.Severity == FindingSeverity.Error).ToArray();

    /// <summary>The warnings only.</summary>
    public IReadOnlyList<EnvironmentFinding> Warnings => Findings.Where(f => f.Severity == FindingSeverity.Warning).ToArray();

    /// <summary>One line for a log or a refusal: clean, or the first error and how many more.</summary>
    public string Summary
    {
        get
        {
            var errors = Errors;
            if (errors.Count == 0)
                return string.Create(CultureInfo.InvariantCulture, $"Environment '{Environment}' passes its check ({Plural(Warnings.Count, "warning")}, {Plural(Steps, "step")}, {Plural(Episodes, "episode")}).");
            string more = errors.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $" (and {errors.Count - 1} more errors)") : "";
            return $"Environment '{Environment}' fails its check: {errors[0]}{more}.";
        }
    }

    private static string Plural(int count, string noun) => string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? "" : "s")}");

    /// <summary>The summary, then every finding on a line of its own.</summary>
    public override string ToString() => string.Join(System.Environment.NewLine, Findings.Select(f => "  " + f).Prepend(Summary));
}

/// <summary>How much <see cref="EnvironmentChecker"/> does. Immutable; change it with the <c>WithX</c> methods (F#) or <c>with</c> (C#).</summary>
public sealed record EnvironmentCheckOptions
{
    /// <summary>The thorough check (<c>advantage-train check</c>): 1,000 random-action steps, determinism over 100.</summary>
    public static EnvironmentCheckOptions Default { get; } = new();

    /// <summary>
    /// The cheap check every training run does before it starts: 200 random-action steps, determinism over 50. Enough
    /// to catch a wrong length or a bad reset at once and a fault within a couple of hundred steps, at a cost a fast
    /// environment does not notice.
    /// </summary>
    public static EnvironmentCheckOptions BeforeTraining { get; } = new() { Steps = 200, DeterminismSteps = 50 };

    /// <summary>Steps with random actions (resetting finished episodes), in [1, 10^7]. Default 1,000.</summary>
    public int Steps { get; init; } = 1000;

    /// <summary>Steps of the episodes compared for determinism (same seed twice, another seed), in [1, 10^6]. Default 100.</summary>
    public int DeterminismSteps { get; init; } = 100;

    /// <summary>The seed of the checked episodes and of the random actions; the second seed compared is this + 1. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Returns a copy with <see cref="Steps"/> changed.</summary>
    public EnvironmentCheckOptions WithSteps(int value) => this with { Steps = value };

    /// <summary>Returns a copy with <see cref="DeterminismSteps"/> changed.</summary>
    public EnvironmentCheckOptions WithDeterminismSteps(int value) => this with { DeterminismSteps = value };

    /// <summary>Returns a copy with <see cref="Seed"/> changed.</summary>
    public EnvironmentCheckOptions WithSeed(int value) => this with { Seed = value };

    /// <summary>Every problem with these options, one per bad field. Empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Steps < 1 || Steps > 10_000_000) problems.Add($"{nameof(Steps)} = {Steps} is outside [1, 10000000].");
        if (DeterminismSteps < 1 || DeterminismSteps > 1_000_000) problems.Add($"{nameof(DeterminismSteps)} = {DeterminismSteps} is outside [1, 1000000].");
        return problems;
    }
}

/// <summary>
/// An environment refused before training started because <see cref="EnvironmentChecker"/> found errors in it. The
/// message is one line (the first error and how many more); <see cref="Report"/> holds all of them.
/// </summary>
public sealed class EnvironmentCheckException : ArgumentException
{
    /// <summary>Creates the exception for a report with errors.</summary>
    public EnvironmentCheckException(EnvironmentCheckReport report)
        : base((report ?? throw new ArgumentNullException(nameof(report))).Summary) => Report = report;

    /// <summary>Every finding of the check.</summary>
    public EnvironmentCheckReport Report { get; }
}

/// <summary>
/// Checks an <see cref="IEnvironment"/> against the contract training relies on, the way Gymnasium's and
/// Stable-Baselines3's <c>check_env</c> do, so a bug in a new environment shows as one precise line instead of a run
/// that stalls or learns nothing. What it checks, each finding naming the method, the step and the element:
/// <list type="bullet">
/// <item>the spaces: readable, stable, a <see cref="Box"/> of observations and a <see cref="Discrete"/> or <see cref="Box"/> of
/// actions (a warning where bounds are infinite), the same on every instance, and a fresh instance per factory call;</item>
/// <item>Reset and Step write exactly the declared number of floats: not fewer (an element left unwritten) and not more
/// (an exception writing past the buffer, measured with a larger one);</item>
/// <item>observations finite and inside the declared bounds; rewards finite; Reset and Step do not throw for actions of the space;</item>
/// <item>episodes end, and a time limit is reported as <see cref="StepResult.Truncated"/> (<see cref="TimeLimit"/>), not as <see cref="StepResult.Terminated"/>;</item>
/// <item><c>Reset(seed)</c> twice gives the same episode (also after other episodes), and another seed a different one (a warning);</item>
/// <item>stepping a finished episode: the contract leaves it undefined (training always resets first), an environment may refuse it with
/// <see cref="InvalidOperationException"/>; either way the next <c>Reset(seed)</c> must start the same episode as before.</item>
/// </list>
/// Every training run does a cheap check (<see cref="EnvironmentCheckOptions.BeforeTraining"/>) before it starts and refuses
/// an environment with errors. Needs nothing but the environment: no network, no actors.
/// </summary>
public static class EnvironmentChecker
{
    /// <summary>A quiet NaN with a payload no arithmetic produces: an element still holding it was never written.</summary>
    private const int SentinelBits = 0x7FC5_A5A5;

    /// <summary>How far past the declared length a write is measured when the exact buffer was too short.</summary>
    private const int ProbeSlack = 64;

    /// <summary>Checks the environments <paramref name="make"/> returns (it is called a few times: some rules compare two instances).</summary>
    /// <param name="make">Makes a fresh environment on every call, as a registry factory does.</param>
    /// <param name="options">How much to do; null for <see cref="EnvironmentCheckOptions.Default"/>.</param>
    /// <param name="name">The environment's name in the report; null for its type's name.</param>
    public static EnvironmentCheckReport Check(Func<IEnvironment> make, EnvironmentCheckOptions? options = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(make);
        options ??= EnvironmentCheckOptions.Default;
        if (options.Problems() is { Count: > 0 } problems) throw new ArgumentException(string.Join(" ", problems), nameof(options));
        return new Run(make, options, name).Execute();
    }

    /// <summary>Checks one instance. The rules that need a second instance (spaces alike, one instance per call) are skipped.</summary>
    public static EnvironmentCheckReport Check(IEnvironment environment, EnvironmentCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        options ??= EnvironmentCheckOptions.Default;
        if (options.Problems() is { Count: > 0 } problems) throw new ArgumentException(string.Join(" ", problems), nameof(options));
        return new Run(null, options, environment.GetType().Name) { Single = environment }.Execute();
    }

    /// <summary>Checks the environment registered under <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not registered.</exception>
    public static EnvironmentCheckReport Check(EnvironmentRegistry registry, string id, EnvironmentCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(id);
        if (!registry.Contains(id)) _ = registry.Make(id); // throws with the known ids
        return Check(() => registry.Make(id), options, id);
    }

    /// <summary>One check: its findings and counters.</summary>
    private sealed class Run(Func<IEnvironment>? make, EnvironmentCheckOptions options, string? name)
    {
        private readonly List<EnvironmentFinding> findings = [];
        private readonly HashSet<string> reported = [];
        private readonly Random random = new(options.Seed);
        private Box observationSpace = null!;
        private Space actionSpace = null!;
        private string environmentName = name ?? "environment";
        private int steps;
        private int episodes;

        public IEnvironment? Single { get; init; }

        public EnvironmentCheckReport Execute()
        {
            try
            {
                CheckAll();
            }
            catch (StopCheck)
            {
                // An error that makes the rest meaningless was recorded; the report is what we have.
            }
            return new EnvironmentCheckReport(environmentName, findings, steps, episodes);
        }

        private sealed class StopCheck : Exception;

        private void Error(EnvironmentMethod method, int? step, int? element, string message, string? rule = null) => Add(FindingSeverity.Error, method, step, element, message, rule);

        private void Warn(EnvironmentMethod method, int? step, int? element, string message, string? rule = null) => Add(FindingSeverity.Warning, method, step, element, message, rule);

        /// <summary>Records a finding once per rule (the first place it shows), so a bad element does not fill the report.</summary>
        private void Add(FindingSeverity severity, EnvironmentMethod method, int? step, int? element, string message, string? rule)
        {
            if (rule is not null && !reported.Add(rule)) return;
            findings.Add(new EnvironmentFinding(severity, method, step, element, message));
        }

        private static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message}";

        private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

        private IEnvironment Make()
        {
            if (Single is not null) return Single;
            IEnvironment? env;
            try
            {
                env = make!();
            }
            catch (Exception e)
            {
                Error(EnvironmentMethod.Factory, null, null, $"the factory threw {Describe(e)}");
                throw new StopCheck();
            }
            if (env is null)
            {
                Error(EnvironmentMethod.Factory, null, null, "the factory returned null");
                throw new StopCheck();
            }
            if (name is null) environmentName = env.GetType().Name;
            return env;
        }

        private void CheckAll()
        {
            var first = Make();
            CheckSpaces(first);
            if (Single is null)
            {
                var second = Make();
                if (ReferenceEquals(first, second))
                    Error(EnvironmentMethod.Factory, null, null, "the factory returned the same instance twice; every environment slot needs its own");
                else if (!Equals(Read(second, EnvironmentMethod.ObservationSpace), observationSpace) || !Equals(Read(second, EnvironmentMethod.ActionSpace), actionSpace))
                    Error(EnvironmentMethod.Factory, null, null, "two instances from the factory declare different spaces; every instance of a run must share one observation and one action space");
            }
            if (findings.Any(f => f.Severity == FindingSeverity.Error)) return;

            RandomSteps(first);
            if (findings.Any(f => f.Severity == FindingSeverity.Error)) return;
            Determinism(first);
            if (findings.Any(f => f.Severity == FindingSeverity.Error)) return;
            SteppingAFinishedEpisode(first);
        }

        private Space? Read(IEnvironment env, EnvironmentMethod which)
        {
            try
            {
                return which == EnvironmentMethod.ObservationSpace ? env.ObservationSpace : env.ActionSpace;
            }
            catch (Exception e)
            {
                Error(which, null, null, $"reading it threw {Describe(e)}");
                throw new StopCheck();
            }
        }

        private void CheckSpaces(IEnvironment env)
        {
            var observation = Read(env, EnvironmentMethod.ObservationSpace);
            var action = Read(env, EnvironmentMethod.ActionSpace);
            if (observation is not Box box)
            {
                Error(EnvironmentMethod.ObservationSpace, null, null, observation is null ? "it is null" : $"it is {observation}; the networks take a Box of observations");
                throw new StopCheck();
            }
            if (action is not (Discrete or Box))
            {
                Error(EnvironmentMethod.ActionSpace, null, null, action is null ? "it is null" : $"it is {action}; actions must be Discrete or a Box");
                throw new StopCheck();
            }
            if (!Equals(Read(env, EnvironmentMethod.ObservationSpace), observation))
                Error(EnvironmentMethod.ObservationSpace, null, null, "it changes between reads; declare it once");
            if (!Equals(Read(env, EnvironmentMethod.ActionSpace), action))
                Error(EnvironmentMethod.ActionSpace, null, null, "it changes between reads; declare it once");
            observationSpace = box;
            actionSpace = action;

            var unbounded = Enumerable.Range(0, box.FlatSize).Where(i => float.IsInfinity(box.Low[i]) || float.IsInfinity(box.High[i])).ToArray();
            if (unbounded.Length > 0)
                Warn(EnvironmentMethod.ObservationSpace, null, unbounded[0],
                    $"{Elements(unbounded)} {(unbounded.Length == 1 ? "has" : "have")} infinite bounds, so nothing checks those values; declare the range they really take where you know it");
            var constant = Enumerable.Range(0, box.FlatSize).Where(i => box.Low[i] == box.High[i]).ToArray();
            if (constant.Length > 0)
                Warn(EnvironmentMethod.ObservationSpace, null, constant[0], $"{Elements(constant)}: low equals high, so the value can never change and carries no information");
            switch (action)
            {
                case Discrete { N: 1 }:
                    Warn(EnvironmentMethod.ActionSpace, null, null, "Discrete(1): there is only one action, nothing to learn");
                    break;
                case Box actions:
                    var open = Enumerable.Range(0, actions.FlatSize).Where(i => float.IsInfinity(actions.Low[i]) || float.IsInfinity(actions.High[i])).ToArray();
                    if (open.Length > 0)
                        Warn(EnvironmentMethod.ActionSpace, null, open[0],
                            $"{Elements(open)} {(open.Length == 1 ? "has" : "have")} infinite bounds; training clips actions to the bounds, so unbounded Gaussian samples reach the environment as they are");
                    break;
            }
        }

        private static string Elements(int[] indices) =>
            (indices.Length == 1 ? "element " : "elements ") + string.Join(", ", indices.Take(8)) + (indices.Length > 8 ? $" (and {indices.Length - 8} more)" : "");

        private float[] NewBuffer(int length)
        {
            var buffer = new float[length];
            buffer.AsSpan().Fill(BitConverter.Int32BitsToSingle(SentinelBits));
            return buffer;
        }

        private static bool IsSentinel(float value) => BitConverter.SingleToInt32Bits(value) == SentinelBits;

        private float[] SampleAction()
        {
            switch (actionSpace)
            {
                case Discrete d:
                    return [random.Next(d.N)];
                default:
                    var box = (Box)actionSpace;
                    var action = new float[box.FlatSize];
                    for (int i = 0; i < action.Length; i++)
                    {
                        float low = box.Low[i], high = box.High[i];
                        double u = random.NextDouble();
                        double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * u);
                        action[i] = (float)(float.IsFinite(low) && float.IsFinite(high) ? low + u * (high - low)
                            : float.IsFinite(low) ? low + Math.Abs(normal)
                            : float.IsFinite(high) ? high - Math.Abs(normal)
                            : normal);
                        if (float.IsFinite(low) && float.IsFinite(high)) action[i] = Math.Clamp(action[i], low, high);
                    }
                    return action;
            }
        }

        /// <summary>Resets and checks what it wrote; false when it threw (recorded).</summary>
        private bool Reset(IEnvironment env, int? seed, float[] observation)
        {
            observation.AsSpan().Fill(BitConverter.Int32BitsToSingle(SentinelBits));
            try
            {
                env.Reset(seed, observation);
            }
            catch (Exception e)
            {
                Error(EnvironmentMethod.Reset, null, null, OverrunOrThrow(e, "Reset", (probe, buffer) => probe.Reset(seed, buffer), null), "reset-throws");
                return false;
            }
            CheckObservation(EnvironmentMethod.Reset, null, observation);
            return true;
        }

        /// <summary>Steps and checks what it wrote and returned; null when it threw (recorded).</summary>
        private StepResult? Step(IEnvironment env, float[] action, float[] observation, int step, Action<IEnvironment>? replayToHere)
        {
            observation.AsSpan().Fill(BitConverter.Int32BitsToSingle(SentinelBits));
            StepResult result;
            try
            {
                result = env.Step(action, observation);
            }
            catch (Exception e)
            {
                string act = string.Join(", ", action.Select(a => F(a)));
                Error(EnvironmentMethod.Step, step, null,
                    OverrunOrThrow(e, $"Step (action [{act}])", (probe, buffer) => probe.Step(action, buffer), replayToHere), "step-throws");
                return null;
            }
            steps++;
            CheckObservation(EnvironmentMethod.Step, step, observation);
            if (!double.IsFinite(result.Reward))
                Error(EnvironmentMethod.Step, step, null, $"the reward is {F(result.Reward)}; rewards must be finite numbers", "reward-finite");
            return result;
        }

        /// <summary>
        /// The message for an exception from Reset or Step. An index error may be a write past the declared length: then
        /// a fresh instance, brought to the same point, writes into a longer buffer, and the message says how much it wrote.
        /// </summary>
        private string OverrunOrThrow(Exception e, string call, Action<IEnvironment, float[]> again, Action<IEnvironment>? replayToHere)
        {
            string threw = $"{call} threw {Describe(e)}";
            if (e is not (IndexOutOfRangeException or ArgumentOutOfRangeException or ArgumentException) || Single is not null) return threw;
            try
            {
                var probe = make!();
                replayToHere?.Invoke(probe);
                var longer = NewBuffer(observationSpace.FlatSize + ProbeSlack);
                again(probe, longer);
                int written = longer.Length;
                while (written > 0 && IsSentinel(longer[written - 1])) written--;
                if (written > observationSpace.FlatSize)
                    return $"{call} writes {written} observation floats, but the observation space declares {observationSpace.FlatSize} ({observationSpace}); it threw {Describe(e)} writing past the end";
            }
            catch (Exception)
            {
                // The probe failed too; the original exception is the finding.
            }
            return threw;
        }

        private void CheckObservation(EnvironmentMethod method, int? step, float[] observation)
        {
            string where = method == EnvironmentMethod.Reset ? "the first observation" : "the observation";
            for (int i = 0; i < observation.Length; i++)
            {
                float value = observation[i];
                if (IsSentinel(value))
                {
                    int written = observation.Count(v => !IsSentinel(v));
                    Error(method, step, i, $"{where} leaves element {i} unwritten ({written} of the {observation.Length} declared floats written); write every element of {observationSpace}", $"unwritten-{method}");
                    continue;
                }
                if (!float.IsFinite(value))
                {
                    Error(method, step, i, $"{where} holds {F(value)} at element {i}; observations must be finite numbers", $"finite-{method}");
                    continue;
                }
                float low = observationSpace.Low[i], high = observationSpace.High[i];
                if (value < low || value > high)
                    Error(method, step, i, $"{where} holds {F(value)} at element {i}, outside the declared [{F(low)}, {F(high)}]; widen the bounds or clip the value", $"bounds-{method}");
            }
        }

        /// <summary>Random actions for <see cref="EnvironmentCheckOptions.Steps"/> steps, resetting finished episodes; checks every value and how episodes end.</summary>
        private void RandomSteps(IEnvironment env)
        {
            var observation = new float[observationSpace.FlatSize];
            var actions = new List<float[]>();
            if (!Reset(env, options.Seed, observation)) return;
            int step = 0;
            var terminalLengths = new List<int>();
            bool anyTruncated = false;
            for (int n = 0; n < options.Steps; n++)
            {
                var action = SampleAction();
                actions.Add(action);
                // Read only when this step fails: the episode's actions before it.
                var result = Step(env, action, observation, ++step, probe => Replay(probe, options.Seed, actions.Take(actions.Count - 1), episodes));
                if (result is not { } r) return;
                if (!r.IsFinished) continue;
                episodes++;
                if (r.Terminated && !r.Truncated) terminalLengths.Add(step);
                if (r.Truncated) anyTruncated = true;
                step = 0;
                actions.Clear();
                if (!Reset(env, null, observation)) return;
            }
            if (episodes == 0 && env is not TimeLimit)
                Warn(EnvironmentMethod.Step, null, null,
                    $"no episode ended in {options.Steps} steps; an episode that never ends is never counted (no returns, no stop at a target): wrap the environment in TimeLimit so long episodes are cut and reported as Truncated");
            if (terminalLengths.Count >= 2 && !anyTruncated && terminalLengths.All(l => l == terminalLengths[0]) && env is not TimeLimit)
                Warn(EnvironmentMethod.Step, terminalLengths[0], null,
                    $"every one of {terminalLengths.Count} episodes ended with Terminated at step {terminalLengths[0]}: if that is a time limit, report it as Truncated (wrap the environment in TimeLimit) so the learner bootstraps from the last state instead of treating it as the end of the world");
        }

        /// <summary>Brings a fresh instance to the point of a failing step: the same resets and actions.</summary>
        private static void Replay(IEnvironment probe, int seed, IEnumerable<float[]> actions, int finishedEpisodes)
        {
            var buffer = new float[probe.ObservationSpace.FlatSize];
            probe.Reset(seed, buffer);
            // Episodes finished before this one were reset unseeded; replaying them exactly is not needed for a length probe.
            for (int i = 0; i < finishedEpisodes; i++) probe.Reset(null, buffer);
            foreach (var a in actions) probe.Step(a, buffer);
        }

        /// <summary>An episode from Reset(seed) with fixed actions, up to <see cref="EnvironmentCheckOptions.DeterminismSteps"/> steps or its end.</summary>
        private List<float[]>? Trace(IEnvironment env, int seed, IReadOnlyList<float[]> actions)
        {
            var observation = new float[observationSpace.FlatSize];
            if (!Reset(env, seed, observation)) return null;
            var trace = new List<float[]> { (float[])observation.Clone() };
            for (int t = 0; t < actions.Count; t++)
            {
                if (Step(env, actions[t], observation, t + 1, null) is not { } r) return null;
                // Observation, then reward and the two flags, as one row.
                trace.Add([.. observation, (float)r.Reward, r.Terminated ? 1 : 0, r.Truncated ? 1 : 0]);
                if (r.IsFinished) break;
            }
            return trace;
        }

        /// <summary>The first difference of two traces: (step, element, a, b), or null when equal.</summary>
        private (int Step, int Element, float A, float B)? Difference(List<float[]> a, List<float[]> b)
        {
            for (int t = 0; t < Math.Min(a.Count, b.Count); t++)
                for (int i = 0; i < Math.Min(a[t].Length, b[t].Length); i++)
                    if (BitConverter.SingleToInt32Bits(a[t][i]) != BitConverter.SingleToInt32Bits(b[t][i]))
                        return (t, i, a[t][i], b[t][i]);
            return a.Count == b.Count ? null : (Math.Min(a.Count, b.Count), 0, float.NaN, float.NaN);
        }

        private string Part(int element) =>
            element < observationSpace.FlatSize ? $"observation element {element}"
            : element == observationSpace.FlatSize ? "the reward"
            : element == observationSpace.FlatSize + 1 ? "Terminated" : "Truncated";

        private IReadOnlyList<float[]> fixedActions = [];

        private void Determinism(IEnvironment env)
        {
            fixedActions = Enumerable.Range(0, options.DeterminismSteps).Select(_ => SampleAction()).ToArray();
            int seed = options.Seed;
            // The same instance, after the random-action episodes above: a reset must not carry anything over.
            var first = Trace(env, seed, fixedActions);
            var again = first is null ? null : Trace(env, seed, fixedActions);
            if (first is null || again is null) return;
            if (Difference(first, again) is { } d)
            {
                Error(d.Step == 0 ? EnvironmentMethod.Reset : EnvironmentMethod.Step, d.Step == 0 ? null : d.Step, d.Element < observationSpace.FlatSize ? d.Element : null,
                    $"Reset({seed}) twice with the same actions gave different episodes: {Part(d.Element)} was {F(d.A)}, then {F(d.B)}; a seed must fix the episode (seed every random source from Reset's seed)");
                return;
            }
            var other = Trace(env, unchecked(seed + 1), fixedActions);
            if (other is not null && Difference(first, other) is null)
                Warn(EnvironmentMethod.Reset, null, null,
                    $"Reset({seed}) and Reset({unchecked(seed + 1)}) gave the same episode over {first.Count - 1} steps: is the seed used? Workers give each environment its own seed and expect different episodes from them");
            reference = first;
        }

        private List<float[]>? reference;

        private void SteppingAFinishedEpisode(IEnvironment env)
        {
            if (reference is null) return;
            var observation = new float[observationSpace.FlatSize];
            if (!Reset(env, options.Seed, observation)) return;
            bool finished = false;
            int step = 0;
            for (int n = 0; n < options.Steps && !finished; n++)
            {
                if (Step(env, SampleAction(), observation, ++step, null) is not { } r) return;
                finished = r.IsFinished;
            }
            if (!finished) return;
            try
            {
                env.Step(SampleAction(), NewBuffer(observationSpace.FlatSize));
            }
            catch (InvalidOperationException)
            {
                // Refusing is what Gymnasium's order-enforcing wrapper does; fine.
            }
            catch (Exception e)
            {
                Warn(EnvironmentMethod.Step, step + 1, null,
                    $"stepping a finished episode threw {Describe(e)}; the contract leaves such a step undefined (training resets first), but an environment that refuses it should throw InvalidOperationException");
            }
            var after = Trace(env, options.Seed, fixedActions);
            if (after is not null && Difference(reference, after) is { } d)
                Error(d.Step == 0 ? EnvironmentMethod.Reset : EnvironmentMethod.Step, d.Step == 0 ? null : d.Step, d.Element < observationSpace.FlatSize ? d.Element : null,
                    $"after a step past the end of an episode, Reset({options.Seed}) no longer starts the same episode ({Part(d.Element)} was {F(d.A)}, now {F(d.B)}); Reset must clear everything the previous episode left");
        }
    }
}
