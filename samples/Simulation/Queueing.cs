using Advantage.Actors.Simulation;
using Akka.Actor;

namespace Advantage.Samples.Simulation;

/// <summary>
/// The simulated world: each router owns three servers that work off their queues at different speeds (fast, medium,
/// slow). A job of random size (0.5 to 2 units of work) arrives at every router at every tick (a load of about 0.71 of the
/// servers' capacity); the router must choose a server for it. Every entity decides once per tick, so the simulation
/// stays in lockstep with the clock. A job's cost is its time
/// in the system (queue wait plus service), known when it is placed; a router's episode is <see cref="JobsPerEpisode"/> jobs.
/// </summary>
public static class Queueing
{
    /// <summary>Work each server does per tick.</summary>
    public static readonly double[] Rates = [1.0, 0.5, 0.25];


    /// <summary>Jobs per episode.</summary>
    public const int JobsPerEpisode = 50;

    /// <summary>Observation: each server's work left (scaled by 1/10) and the arriving job's size (scaled by 1/2).</summary>
    public static float[] Observe(double[] work, double size) =>
        [(float)(work[0] / 10), (float)(work[1] / 10), (float)(work[2] / 10), (float)(size / 2)];

    /// <summary>The fixed heuristic: join the server with the least work left (ignores that the servers differ in speed).</summary>
    public static int LeastWorkLeft(float[] observation)
    {
        int best = 0;
        for (int i = 1; i < 3; i++)
            if (observation[i] < observation[best]) best = i;
        return best;
    }
}

/// <summary>The clock advances time: a tick goes to every router, and the next tick only when each has finished this one.</summary>
public sealed class Clock : ReceiveActor
{
    /// <summary>Sent by a router when it has finished a tick.</summary>
    public sealed record TickDone(int Router);

    /// <summary>A tick of simulated time.</summary>
    public sealed record Tick(long Time);

    private readonly List<IActorRef> routers = [];
    private int pending;
    private long time;

    /// <summary>Creates routers through <paramref name="makeRouter"/> (given the clock and the router's index) and starts time.</summary>
    public Clock(int routerCount, Func<IActorRef, int, Props> makeRouter)
    {
        for (int i = 0; i < routerCount; i++) routers.Add(Context.ActorOf(makeRouter(Self, i), $"router-{i}"));
        Receive<TickDone>(_ =>
        {
            if (--pending == 0) Advance();
        });
        Advance();
    }

    private void Advance()
    {
        time++;
        pending = routers.Count;
        foreach (var router in routers) router.Tell(new Tick(time));
    }
}

/// <summary>
/// One entity of the simulation, an agent stream: at each tick its servers work, and when a job arrives it asks its
/// decider (the training gateway, or a policy during evaluation) where to send it, places it and reports the cost. It
/// tells the clock it is done with the tick only after the job is placed.
/// </summary>
public sealed class Router : ReceiveActor
{
    private readonly double[] work = new double[3];
    private readonly Random random;
    private double size;
    private int jobs;
    private double episodeReturn;
    private readonly List<double> returns = [];

    /// <summary>Creates the router: stream <paramref name="stream"/> of <paramref name="decider"/>, ticked by <paramref name="clock"/>.</summary>
    public Router(IActorRef clock, IActorRef decider, int stream, int seed, int episodes, IActorRef? report)
    {
        random = new Random(seed);
        Receive<Clock.Tick>(_ =>
        {
            for (int i = 0; i < 3; i++) work[i] = Math.Max(0, work[i] - Queueing.Rates[i]);
            if (episodes > 0 && returns.Count >= episodes)
            {
                clock.Tell(new Clock.TickDone(stream));
                return;
            }
            size = 0.5 + 1.5 * random.NextDouble();
            decider.Tell(new Decide(stream, Queueing.Observe(work, size)));
        });
        Receive<Decision>(decision =>
        {
            int server = decision.Index;
            work[server] += size;
            double cost = work[server] / Queueing.Rates[server]; // ticks until this job is done
            double reward = -cost / 10;
            jobs++;
            episodeReturn += reward;
            bool end = jobs == Queueing.JobsPerEpisode;
            // The episode is cut after a fixed number of jobs (a time limit): truncated, bootstrapped from where it stood.
            decider.Tell(new Outcome(stream, reward, Truncated: end, FinalObservation: end ? Queueing.Observe(work, 0.5 + 1.5 * random.NextDouble()) : null));
            if (end)
            {
                returns.Add(episodeReturn);
                episodeReturn = 0;
                jobs = 0;
                Array.Clear(work);
                if (report is not null && returns.Count == episodes) report.Tell(returns.ToArray());
            }
            clock.Tell(new Clock.TickDone(stream));
        });
        Receive<DecisionRefused>(refused => throw new InvalidOperationException(refused.Reason));
    }
}

/// <summary>Answers decisions with a fixed function (the heuristic or a trained policy) and ignores outcomes: for evaluation.</summary>
public sealed class FixedDecider : ReceiveActor
{
    /// <summary>Creates the decider.</summary>
    public FixedDecider(Func<float[], int> choose)
    {
        Receive<Decide>(d => Sender.Tell(new Decision(d.Stream, [choose(d.Observation)], 0)));
        Receive<Outcome>(_ => { });
    }
}

/// <summary>
/// Serves the routers' decisions from a <see cref="Advantage.Actors.PolicyServer"/>: each <see cref="Decide"/> becomes an
/// <see cref="Advantage.Actors.Act"/> (greedy), and the server's answer goes back to the router as a <see cref="Decision"/>.
/// Decisions of routers asking in the same tick share the server's forward pass.
/// </summary>
public sealed class ServedDecider : ReceiveActor
{
    private readonly Dictionary<long, (IActorRef Router, int Stream)> pending = [];
    private long next;

    /// <summary>Creates the decider in front of <paramref name="server"/>.</summary>
    public ServedDecider(IActorRef server)
    {
        Receive<Decide>(d =>
        {
            pending[++next] = (Sender, d.Stream);
            server.Tell(new Advantage.Actors.Act(next, d.Observation));
        });
        Receive<Advantage.Actors.Acted>(acted =>
        {
            if (pending.Remove(acted.RequestId, out var to)) to.Router.Tell(new Decision(to.Stream, acted.Actions, acted.Version));
        });
        Receive<Advantage.Actors.ActRejected>(rejected => throw new InvalidOperationException(rejected.Reason));
        Receive<Outcome>(_ => { });
    }
}
