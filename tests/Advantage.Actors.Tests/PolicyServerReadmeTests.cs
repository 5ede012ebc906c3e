using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Actors.Tests;

// README begin (the actor)
/// <summary>An actor of yours that needs decisions: it asks the policy server and acts on the answer.</summary>
public sealed class Cart : ReceiveActor
{
    private readonly Dictionary<long, IActorRef> waiting = [];   // request id -> who asked the cart
    private long asked;

    public Cart(IActorRef policy)
    {
        Receive<float[]>(observation =>
        {
            waiting[++asked] = Sender;
            policy.Tell(new Act(asked, observation));   // the reply comes to Self, with the same request id
        });
        Receive<Acted>(acted => Answer(acted.RequestId, $"push {(acted.ActionIndex(0) == 0 ? "left" : "right")} (version {acted.Version})"));
        Receive<ActRejected>(rejected => Answer(rejected.RequestId, rejected.Reason));
    }

    private void Answer(long request, string what)
    {
        waiting.Remove(request, out var asker);
        asker?.Tell(what);
    }
}
// README end

/// <summary>README's "Serving a policy to your actors", C#, as written there.</summary>
public class PolicyServerReadmeTests : ActorTestKit
{
    [Fact]
    public async Task Readme_serving_a_policy_to_your_actors()
    {
        // README begin (the program)
        using var system = ActorSystem.Create("my-service");
        var options = new TrainingOptions
        {
            Algorithm = A2CPresets.For("CartPole-v1").WithSeed(1),
            EnvironmentId = "CartPole-v1",
            MaxSteps = 20_000,
        };
        TrainingRun run = Training.Start(system, options);

        // Follow the run: every parameter version the learner broadcasts is swapped in while it trains.
        IActorRef live = PolicyServing.Start(system, run, new PolicyServerOptions());
        float[] upright = [0.01f, 0f, 0.02f, 0f];
        Acted early = await live.Ask<Acted>(new Act(1, upright), TimeSpan.FromSeconds(30));

        // Or serve a finished result, or any checkpoint (Checkpoint.Load(path), TrainedPolicy.Load(path).Checkpoint).
        TrainingResult result = await run.Completion;
        IActorRef policy = PolicyServing.Start(system, result.ToCheckpoint(), new PolicyServerOptions { MaxBatch = 256 }, name: "policy");

        // Several observations in one request, with the critic's values and the action probabilities.
        Acted acted = await policy.Ask<Acted>(Act.Many(2, [upright, [0.1f, 0.5f, -0.2f, -0.8f]]).WithValues(true).WithProbabilities(true), TimeSpan.FromSeconds(30));
        Console.WriteLine($"version {early.Version} during training, {acted.Version} at the end: actions {acted.ActionIndex(0)} and {acted.ActionIndex(1)}, "
            + $"value {acted.Values[0]:F2}, P(left) {acted.Probabilities[0]:F2}");

        // Your actors tell it and get the answer back; a malformed request gets a reason instead of silence.
        IActorRef cart = system.ActorOf(Props.Create(() => new Cart(policy)));
        string move = await cart.Ask<string>(upright, TimeSpan.FromSeconds(30));   // "push left (version 39)"
        string refused = await cart.Ask<string>(new[] { 0.01f, float.NaN, 0.02f, 0f }, TimeSpan.FromSeconds(30));
        Console.WriteLine($"{move}; {refused}");   // "... Observations[1] (observation 0, element 1) is NaN; observations must be finite numbers."
        // README end
        Assert.Equal(result.Progress.Version, acted.Version);
        Assert.True(early.Version >= 0 && early.Version <= acted.Version);
        Assert.Equal(2, acted.Count);
        Assert.Equal(2, acted.Values.Length);
        Assert.Equal(1f, acted.Probabilities[0] + acted.Probabilities[1], 1e-5f);
        Assert.Matches(@"^push (left|right) \(version \d+\)$", move);
        Assert.Equal("Observations[1] (observation 0, element 1) is NaN; observations must be finite numbers.", refused);
        await system.Terminate();
    }
}
