// The C# example of docs/testing-kit.md, compiled and run so the documentation cannot rot.
using Advantage.Learning;
using Advantage.Learning.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Advantage.Learning.Tests.Returns;

public class MyReturnTests
{
    // Your own return code; here, n-step returns as one backward loop per column.
    static float[] MyNStep(ReturnInputs x, double gamma)
    {
        var result = new float[x.Steps * x.Envs];
        for (int n = 0; n < x.Envs; n++)
        {
            double next = x.BootstrapValues[n];
            for (int t = x.Steps - 1; t >= 0; t--)
            {
                int i = t * x.Envs + n;
                next = x.Terminated[i] ? x.Rewards[i]
                     : x.Truncated[i] ? x.Rewards[i] + gamma * x.FinalValues[i]
                     : x.Rewards[i] + gamma * next;
                result[i] = (float)next;
            }
        }
        return result;
    }

    [Property(Arbitrary = new[] { typeof(ReturnArbitraries) })]
    public Property MyNStep_MatchesTheReference(ReturnCase c) =>
        ReferenceReturns.NStep(c).Check(MyNStep(c.Inputs, c.Gamma));

    // Edge cases on demand: one-step rollouts in which every step ends an episode.
    [Property]
    public Property MyNStep_MatchesTheReference_OnOneStepEpisodes() =>
        Prop.ForAll(
            ReturnGenerators.Arbitrary(ReturnCaseShape.Default.WithSteps(1, 1).WithDones(DonePattern.AlwaysDone)),
            c => ReferenceReturns.NStep(c).Check(MyNStep(c.Inputs, c.Gamma)));
}
