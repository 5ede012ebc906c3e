using System.Collections.Immutable;

namespace Advantage.Environments;

/// <summary>
/// Environment ids mapped to factories, as Gymnasium's <c>gym.make</c> registry, so configurations and
/// remote workers can name an environment with a string instead of shipping code. Immutable: registering
/// returns a new registry, so a registry can be shared across actors and threads without locks and
/// nobody's <see cref="Builtin"/> changes under them.
/// </summary>
public sealed class EnvironmentRegistry
{
    private readonly ImmutableDictionary<string, Func<IEnvironment>> factories;
    private readonly ImmutableList<string> ids;

    private EnvironmentRegistry(ImmutableDictionary<string, Func<IEnvironment>> factories, ImmutableList<string> ids)
    {
        this.factories = factories;
        this.ids = ids;
    }

    /// <summary>A registry with no ids, to build one that contains only your own environments.</summary>
    public static EnvironmentRegistry Empty { get; } =
        new(ImmutableDictionary.Create<string, Func<IEnvironment>>(StringComparer.Ordinal), []);

    /// <summary>
    /// Gymnasium's classic-control set with its registered time limits: CartPole-v1 (500),
    /// Acrobot-v1 (500), MountainCar-v0 (200), MountainCarContinuous-v0 (999), Pendulum-v1 (200); and
    /// MinAtar/Breakout-v1 (MinAtar's minimal action set, sticky actions 0.1) under a generous
    /// 10,000-step limit that MinAtar itself does not have: it only guards against a policy that keeps
    /// the ball in a brick-free loop forever, and normal play ends long before it (docs/minatar.md).
    /// </summary>
    public static EnvironmentRegistry Builtin { get; } = Empty
        .Register("CartPole-v1", () => new TimeLimit(new CartPole(), 500))
        .Register("Acrobot-v1", () => new TimeLimit(new Acrobot(), 500))
        .Register("MountainCar-v0", () => new TimeLimit(new MountainCar(), 200))
        .Register("MountainCarContinuous-v0", () => new TimeLimit(new MountainCarContinuous(), 999))
        .Register("Pendulum-v1", () => new TimeLimit(new Pendulum(), 200))
        .Register("MinAtar/Breakout-v1", () => new TimeLimit(new MinAtarBreakout(), MinAtarBreakout.RegisteredStepLimit));

    /// <summary>The registered ids in registration order, so listings and error messages are stable.</summary>
    public IReadOnlyList<string> Ids => ids;

    /// <summary>Whether <paramref name="id"/> is registered (ordinal, case-sensitive, as Gymnasium).</summary>
    public bool Contains(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return factories.ContainsKey(id);
    }

    /// <summary>
    /// Returns a registry with <paramref name="id"/> added; this one is unchanged. The factory must return
    /// a fresh environment on every call, because vector environments need one instance per slot.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="id"/> is blank or already registered.</exception>
    public EnvironmentRegistry Register(string id, Func<IEnvironment> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentNullException.ThrowIfNull(factory);
        if (factories.ContainsKey(id))
            throw new ArgumentException($"Environment id '{id}' is already registered.", nameof(id));
        return new EnvironmentRegistry(factories.Add(id, factory), ids.Add(id));
    }

    /// <summary>
    /// Returns a registry with the environments of the assembly at <paramref name="path"/> added: every public class in it
    /// that implements <see cref="IEnvironmentRegistration"/> (with a public parameterless constructor) is created once,
    /// in name order, and adds its ids. This is how a command line or a worker node that was not compiled against your
    /// environments gets them. The assembly loads into the default load context, so it shares this one's
    /// <c>Advantage.Environments</c>; its own dependencies are found beside it.
    /// </summary>
    /// <exception cref="EnvironmentAssemblyException">
    /// The file is missing or not a .NET assembly, it fails to load, it exports no registration, its registrations add no
    /// id, or one of them throws (an id registered twice among them). The message is one line naming the file.
    /// </exception>
    public EnvironmentRegistry WithAssembly(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var registrations = UserAssemblyLoader.EnvironmentRegistrations(path);
        var registry = this;
        foreach (var type in registrations)
        {
            try
            {
                var registration = (IEnvironmentRegistration)Activator.CreateInstance(type)!;
                registry = registration.Register(registry) ?? throw new InvalidOperationException("Register returned null; return the registry Register gave back.");
            }
            catch (Exception e)
            {
                var cause = e is System.Reflection.TargetInvocationException { InnerException: { } inner } ? inner : e;
                throw new EnvironmentAssemblyException($"'{path}': {type.FullName}.Register failed: {cause.Message}", cause);
            }
        }
        if (registry.Ids.Count == Ids.Count)
            throw new EnvironmentAssemblyException($"'{path}' exports no environments: {string.Join(", ", registrations.Select(t => t.FullName))} registered no id.");
        return registry;
    }

    /// <summary>Returns a registry with the environments of every assembly in <paramref name="paths"/> added, in order (<see cref="WithAssembly"/>).</summary>
    /// <exception cref="EnvironmentAssemblyException">One of them cannot give its environments; the message names it.</exception>
    public EnvironmentRegistry WithAssemblies(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var registry = this;
        foreach (string path in paths) registry = registry.WithAssembly(path);
        return registry;
    }

    /// <summary>Creates a new environment registered under <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not registered; the message lists the known ids.</exception>
    /// <exception cref="InvalidOperationException">The factory returned null.</exception>
    public IEnvironment Make(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!factories.TryGetValue(id, out Func<IEnvironment>? factory))
            throw new ArgumentException(
                $"Unknown environment id '{id}'. Known ids: {(ids.IsEmpty ? "(none)" : string.Join(", ", ids))}.", nameof(id));
        return factory() ?? throw new InvalidOperationException($"The factory for '{id}' returned null.");
    }
}
