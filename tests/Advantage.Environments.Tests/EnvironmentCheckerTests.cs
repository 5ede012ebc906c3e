namespace Advantage.Environments.Tests;

/// <summary>The faults <see cref="FaultyEnvironment"/> can have, one per checker rule.</summary>
public enum Fault
{
    None,
    ObservationOneFloatLonger,
    ObservationOneFloatShorter,
    NaNObservationAtStep7,
    ObservationOutOfBoundsAtStep3,
    NaNRewardAtStep50,
    InfiniteObservationBounds,
    TimeLimitReportedAsTerminated,
    NeverEnds,
    UnseededRandomInReset,
    SeedIgnored,
    CorruptedBySteppingAFinishedEpisode,
    ThrowsOtherThanInvalidOperationPastTheEnd,
    StepThrowsForAction2,
    ResetThrows,
    DiscreteObservations,
    ObservationSpaceChangesBetweenReads,
    InfiniteActionBounds,
}

/// <summary>
/// A well-behaved environment (4 observations in [-1, 1], 3 actions, episodes of a seeded length in [60, 100), under a
/// <see cref="TimeLimit"/> of 100) with one deliberate fault.
/// </summary>
internal sealed class FaultyEnvironment(Fault fault) : IEnvironment
{
    private static readonly Box Bounded = Box.Uniform([4], -1f, 1f);
    private Random random = new(0);
    private int step;
    private int length;
    private bool finished;
    private bool corrupted;
    private int reads;

    public static Func<IEnvironment> Factory(Fault fault) => fault switch
    {
        Fault.TimeLimitReportedAsTerminated or Fault.NeverEnds => () => new FaultyEnvironment(fault),
        _ => () => new TimeLimit(new FaultyEnvironment(fault), 100),
    };

    public Space ObservationSpace => fault switch
    {
        Fault.InfiniteObservationBounds => new Box([4], [-1f, float.NegativeInfinity, -1f, -1f], [1f, float.PositiveInfinity, 1f, 1f]),
        Fault.DiscreteObservations => new Discrete(4),
        Fault.ObservationSpaceChangesBetweenReads => Box.Uniform([4], -1f, 1f + reads++),
        _ => Bounded,
    };

    public Space ActionSpace => fault == Fault.InfiniteActionBounds ? Box.Uniform([1], float.NegativeInfinity, float.PositiveInfinity) : new Discrete(3);

    public void Reset(int? seed, Span<float> observation)
    {
        if (fault == Fault.ResetThrows) throw new InvalidDataException("the inventory file is missing");
        if (fault == Fault.UnseededRandomInReset) random = new Random();
        else if (fault == Fault.SeedIgnored) random = new Random(7);
        else if (seed is int s) random = new Random(s);
        step = 0;
        finished = false;
        length = fault == Fault.TimeLimitReportedAsTerminated ? 100 : random.Next(60, 100);
        Write(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (finished)
        {
            if (fault == Fault.ThrowsOtherThanInvalidOperationPastTheEnd) throw new NullReferenceException("no episode");
            if (fault == Fault.CorruptedBySteppingAFinishedEpisode) corrupted = true;
        }
        float a = action[0];
        if (fault == Fault.StepThrowsForAction2 && a == 2) throw new KeyNotFoundException("action 2");
        step++;
        Write(observation);
        if (fault == Fault.NaNObservationAtStep7 && step == 7) observation[2] = float.NaN;
        if (fault == Fault.ObservationOutOfBoundsAtStep3 && step == 3) observation[1] = 1.5f;
        double reward = fault == Fault.NaNRewardAtStep50 && step == 50 ? double.NaN : a;
        finished = fault != Fault.NeverEnds && step >= length;
        return new StepResult(reward, finished, false);
    }

    private void Write(Span<float> observation)
    {
        int count = fault switch
        {
            Fault.ObservationOneFloatLonger => 5,
            Fault.ObservationOneFloatShorter => 3,
            _ => 4,
        };
        for (int i = 0; i < count; i++) observation[i] = (float)(random.NextDouble() * 2 - 1) * (corrupted ? 0.5f : 1f);
    }
}

public sealed class EnvironmentCheckerTests
{
    private static EnvironmentCheckReport Check(Fault fault) => EnvironmentChecker.Check(FaultyEnvironment.Factory(fault), name: fault.ToString());

    [Fact]
    public void The_well_behaved_environment_is_clean()
    {
        var report = Check(Fault.None);
        Assert.Empty(report.Findings);
        Assert.False(report.HasErrors);
        Assert.True(report.Episodes > 5, report.ToString());
        Assert.Contains("passes its check", report.Summary);
    }

    public static TheoryData<Fault, FindingSeverity, EnvironmentMethod, int?, int?, string> Rules => new()
    {
        { Fault.ObservationOneFloatLonger, FindingSeverity.Error, EnvironmentMethod.Reset, null, null, "writes 5 observation floats, but the observation space declares 4" },
        { Fault.ObservationOneFloatShorter, FindingSeverity.Error, EnvironmentMethod.Reset, null, 3, "leaves element 3 unwritten (3 of the 4 declared floats written)" },
        { Fault.NaNObservationAtStep7, FindingSeverity.Error, EnvironmentMethod.Step, 7, 2, "holds NaN at element 2" },
        { Fault.ObservationOutOfBoundsAtStep3, FindingSeverity.Error, EnvironmentMethod.Step, 3, 1, "holds 1.5 at element 1, outside the declared [-1, 1]" },
        { Fault.NaNRewardAtStep50, FindingSeverity.Error, EnvironmentMethod.Step, 50, null, "the reward is NaN" },
        { Fault.InfiniteObservationBounds, FindingSeverity.Warning, EnvironmentMethod.ObservationSpace, null, 1, "element 1 has infinite bounds" },
        { Fault.TimeLimitReportedAsTerminated, FindingSeverity.Warning, EnvironmentMethod.Step, 100, null, "ended with Terminated at step 100: if that is a time limit, report it as Truncated" },
        { Fault.NeverEnds, FindingSeverity.Warning, EnvironmentMethod.Step, null, null, "no episode ended in 1000 steps" },
        { Fault.UnseededRandomInReset, FindingSeverity.Error, EnvironmentMethod.Reset, null, 0, "Reset(0) twice with the same actions gave different episodes" },
        { Fault.SeedIgnored, FindingSeverity.Warning, EnvironmentMethod.Reset, null, null, "Reset(0) and Reset(1) gave the same episode" },
        { Fault.CorruptedBySteppingAFinishedEpisode, FindingSeverity.Error, EnvironmentMethod.Reset, null, 0, "after a step past the end of an episode, Reset(0) no longer starts the same episode" },
        { Fault.ThrowsOtherThanInvalidOperationPastTheEnd, FindingSeverity.Warning, EnvironmentMethod.Step, null, null, "stepping a finished episode threw NullReferenceException" },
        { Fault.StepThrowsForAction2, FindingSeverity.Error, EnvironmentMethod.Step, null, null, "Step (action [2]) threw KeyNotFoundException: action 2" },
        { Fault.ResetThrows, FindingSeverity.Error, EnvironmentMethod.Reset, null, null, "Reset threw InvalidDataException: the inventory file is missing" },
        { Fault.DiscreteObservations, FindingSeverity.Error, EnvironmentMethod.ObservationSpace, null, null, "it is Discrete(4); the networks take a Box of observations" },
        { Fault.ObservationSpaceChangesBetweenReads, FindingSeverity.Error, EnvironmentMethod.ObservationSpace, null, null, "it changes between reads" },
        { Fault.InfiniteActionBounds, FindingSeverity.Warning, EnvironmentMethod.ActionSpace, null, 0, "element 0 has infinite bounds; training clips actions" },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Each_broken_environment_is_found_with_the_method_the_step_and_the_element(Fault fault, FindingSeverity severity, EnvironmentMethod method, int? step, int? element, string message)
    {
        var report = Check(fault);
        var finding = Assert.Single(report.Findings, f => f.Method == method && f.Message.Contains(message, StringComparison.Ordinal));
        Assert.Equal((severity, method, element), (finding.Severity, finding.Method, finding.Element));
        if (step is not null) Assert.Equal(step, finding.Step);
        Assert.Equal(severity == FindingSeverity.Error, report.HasErrors);
        if (severity == FindingSeverity.Error) Assert.StartsWith($"Environment '{fault}' fails its check: error: {method}", report.Summary);
    }

    [Fact]
    public void A_step_that_throws_names_the_step_of_the_episode()
    {
        var finding = Assert.Single(Check(Fault.StepThrowsForAction2).Errors);
        Assert.NotNull(finding.Step);
        Assert.InRange(finding.Step!.Value, 1, 100);
    }

    [Fact]
    public void The_factory_is_checked_too()
    {
        var shared = new TimeLimit(new FaultyEnvironment(Fault.None), 100);
        Assert.Contains("the same instance twice", Assert.Single(EnvironmentChecker.Check(() => shared).Errors).Message);

        int made = 0;
        var differing = EnvironmentChecker.Check(() => made++ == 0 ? new FaultyEnvironment(Fault.None) : new FaultyEnvironment(Fault.InfiniteObservationBounds));
        Assert.Contains("declare different spaces", Assert.Single(differing.Errors).Message);

        var throwing = Assert.Single(EnvironmentChecker.Check(() => throw new FileNotFoundException("model.bin")).Findings);
        Assert.Equal((FindingSeverity.Error, EnvironmentMethod.Factory), (throwing.Severity, throwing.Method));
        Assert.Contains("the factory threw FileNotFoundException: model.bin", throwing.Message);

        Assert.Contains("returned null", Assert.Single(EnvironmentChecker.Check(() => null!).Errors).Message);
    }

    [Fact]
    public void One_instance_can_be_checked_and_the_report_says_everything_in_lines()
    {
        var report = EnvironmentChecker.Check(new FaultyEnvironment(Fault.NaNRewardAtStep50), EnvironmentCheckOptions.Default.WithSteps(300));
        Assert.True(report.HasErrors);
        Assert.Equal("error: Step, step 50: the reward is NaN; rewards must be finite numbers", report.Errors[0].ToString());
        Assert.Contains("  error: Step, step 50", report.ToString());
        var exception = new EnvironmentCheckException(report);
        Assert.DoesNotContain('\n', exception.Message);
        Assert.Same(report, exception.Report);
    }

    [Fact]
    public void The_cheap_check_before_training_still_finds_a_fault_at_step_50()
    {
        var report = EnvironmentChecker.Check(FaultyEnvironment.Factory(Fault.NaNRewardAtStep50), EnvironmentCheckOptions.BeforeTraining);
        Assert.True(report.HasErrors);
        Assert.True(report.Steps <= 2 * (EnvironmentCheckOptions.BeforeTraining.Steps + 3 * EnvironmentCheckOptions.BeforeTraining.DeterminismSteps), report.ToString());
    }

    [Fact]
    public void Bad_check_options_are_refused_with_the_field()
    {
        var e = Assert.Throws<ArgumentException>(() => EnvironmentChecker.Check(FaultyEnvironment.Factory(Fault.None), EnvironmentCheckOptions.Default.WithSteps(0)));
        Assert.Contains("Steps = 0 is outside [1, 10000000]", e.Message);
        Assert.Throws<ArgumentException>(() => EnvironmentChecker.Check(EnvironmentRegistry.Builtin, "CartPole-v0"));
    }

    public static TheoryData<string> Builtin => new(EnvironmentRegistry.Builtin.Ids);

    [Theory]
    [MemberData(nameof(Builtin))]
    public void Every_builtin_environment_passes_without_errors(string id)
    {
        var report = EnvironmentChecker.Check(EnvironmentRegistry.Builtin, id);
        Assert.False(report.HasErrors, report.ToString());
        Assert.Empty(report.Findings);
        Assert.True(report.Episodes > 0, report.ToString());
    }
}

public sealed class VectorEnvironmentFaultTests
{
    [Fact]
    public void An_environment_that_throws_is_named_by_slot_method_and_step_with_its_exception_inside()
    {
        var vector = new VectorEnvironment([new FaultyEnvironment(Fault.None), new FaultyEnvironment(Fault.StepThrowsForAction2)]);
        vector.Reset(0);
        vector.Step([0f, 1f]);
        var e = Assert.Throws<EnvironmentException>(() => vector.Step([0f, 2f]));
        Assert.Equal((1, EnvironmentMethod.Step, 2), (e.Slot, e.Method, e.Step));
        Assert.Equal("slot 1: Step at step 2 of its episode threw KeyNotFoundException: action 2", e.Message);
        Assert.IsType<KeyNotFoundException>(e.InnerException);

        var reset = Assert.Throws<EnvironmentException>(() => new VectorEnvironment([new FaultyEnvironment(Fault.ResetThrows)]).Reset(0));
        Assert.Equal("slot 0: Reset threw InvalidDataException: the inventory file is missing", reset.Message);
    }

    [Fact]
    public void With_RequireFinite_a_non_finite_reward_or_observation_is_named_where_it_appeared()
    {
        var nanReward = new VectorEnvironment([new FaultyEnvironment(Fault.None), new FaultyEnvironment(Fault.NaNRewardAtStep50)]) { RequireFinite = true };
        nanReward.Reset(0);
        for (int t = 1; t < 50; t++) nanReward.Step([0f, 0f]);
        Assert.Equal("slot 1: Step at step 50 of its episode returned the reward NaN; rewards must be finite (as float32)",
            Assert.Throws<EnvironmentException>(() => nanReward.Step([0f, 0f])).Message);

        var nanObservation = new VectorEnvironment([new FaultyEnvironment(Fault.NaNObservationAtStep7)]) { RequireFinite = true };
        nanObservation.Reset(0);
        for (int t = 1; t < 7; t++) nanObservation.Step([0f]);
        Assert.Equal("slot 0: Step at step 7 of its episode wrote the observation value NaN at element 2; observations must be finite",
            Assert.Throws<EnvironmentException>(() => nanObservation.Step([0f])).Message);

        // Off by default: the vector passes values on as they are.
        var unchecked_ = new VectorEnvironment([new FaultyEnvironment(Fault.NaNObservationAtStep7)]);
        unchecked_.Reset(0);
        for (int t = 1; t <= 7; t++) unchecked_.Step([0f]);
        Assert.True(float.IsNaN(unchecked_.Observations[2]));
    }
}
