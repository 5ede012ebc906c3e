using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>
/// Everything the library and its tools need to know about one algorithm, in one value: so adding an algorithm is
/// writing its options record, its learner and this descriptor, then <see cref="Algorithms.Register"/>, whether it lives in
/// this library (A2C, PPO, IMPALA register theirs at start-up) or in a user's assembly. Training, checkpoints, the command
/// line, TensorBoard's hyperparameter table and the cluster handshake all look algorithms up here, never by a fixed list.
/// </summary>
/// <param name="Name">
/// The short name (<c>--algo</c>'s value and a checkpoint's <c>algorithm</c> field), lower case; must equal
/// <see cref="AlgorithmOptions.Algorithm"/> of its options.
/// </param>
/// <param name="OptionsType">The sealed record deriving from <see cref="AlgorithmOptions"/> that names this algorithm.</param>
/// <param name="Preset">The options to start from on an environment id: a measured preset, or the defaults for any other id.</param>
/// <param name="CreateLearner">Makes the learner for validated options of <see cref="OptionsType"/> and a network spec.</param>
public sealed record AlgorithmDescriptor(
    string Name,
    Type OptionsType,
    Func<string, AlgorithmOptions> Preset,
    Func<AlgorithmOptions, NetworkSpec, IPolicyLearner> CreateLearner)
{
    /// <summary>One line for <c>--help</c> and listings: what the algorithm is.</summary>
    public string Summary { get; init; } = "";

    /// <summary>
    /// The options this algorithm adds to the shared ones of <see cref="AlgorithmOptions"/> (each with its flag, help, range
    /// and hyperparameter name), so the command line, validation and TensorBoard learn them from here. Default none.
    /// </summary>
    public IReadOnlyList<AlgorithmOption> Options { get; init; } = [];

    /// <summary>
    /// A descriptor whose preset and learner factory see the options' own type, so neither C# nor F# callers cast.
    /// </summary>
    /// <typeparam name="TOptions">The algorithm's options record.</typeparam>
    /// <param name="name">The short name (see <see cref="Name"/>).</param>
    /// <param name="preset">The options to start from on an environment id.</param>
    /// <param name="createLearner">Makes the learner.</param>
    public static AlgorithmDescriptor Create<TOptions>(string name, Func<string, TOptions> preset, Func<TOptions, NetworkSpec, IPolicyLearner> createLearner)
        where TOptions : AlgorithmOptions
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(createLearner);
        return new AlgorithmDescriptor(name, typeof(TOptions), id => preset(id), (options, spec) => createLearner((TOptions)options, spec));
    }
}

/// <summary>
/// The registry of algorithms (<see cref="AlgorithmDescriptor"/>): the one place the library resolves an algorithm's name or
/// options type to its learner, preset, flags and checkpoint type. A2C, PPO and IMPALA are registered before first use; an
/// algorithm of your own is registered once per process with <see cref="Register"/> before training, loading its
/// checkpoints or starting a cluster node that takes part in its runs.
/// </summary>
public static class Algorithms
{
    private static readonly object Gate = new();
    private static AlgorithmDescriptor[] registered =
    [
        A2CAlgorithm.Descriptor,
        PpoAlgorithm.Descriptor,
        ImpalaAlgorithm.Descriptor,
    ];

    /// <summary>Every registered algorithm, built-ins first, then in order of registration.</summary>
    public static IReadOnlyList<AlgorithmDescriptor> All => Volatile.Read(ref registered);

    /// <summary>The registered names, as <c>--algo</c> takes them.</summary>
    public static IReadOnlyList<string> Names => All.Select(d => d.Name).ToArray();

    /// <summary>Bumped by every registration, so caches built from the registry (checkpoint JSON) know when to rebuild.</summary>
    internal static int Generation => Volatile.Read(ref generation);

    private static int generation;

    /// <summary>
    /// Registers an algorithm. Registering the same name with the same options type again is a no-op (so a module's
    /// initialiser may run twice); another type under a taken name, or a type already registered under another name, is refused.
    /// </summary>
    /// <exception cref="ArgumentException">The descriptor is incomplete or clashes with a registered one.</exception>
    public static void Register(AlgorithmDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (Problem(descriptor) is { } problem) throw new ArgumentException(problem, nameof(descriptor));
        lock (Gate)
        {
            foreach (var known in registered)
            {
                if (known.Name == descriptor.Name && known.OptionsType == descriptor.OptionsType) return;
                if (known.Name == descriptor.Name)
                    throw new ArgumentException($"Algorithm '{descriptor.Name}' is already registered with {known.OptionsType.Name}; pick another name for {descriptor.OptionsType.Name}.", nameof(descriptor));
                if (known.OptionsType == descriptor.OptionsType)
                    throw new ArgumentException($"{descriptor.OptionsType.Name} is already registered as '{known.Name}'.", nameof(descriptor));
            }
            Volatile.Write(ref registered, [.. registered, descriptor]);
            Interlocked.Increment(ref generation);
        }
    }

    /// <summary>
    /// Registers the algorithms of the assembly at <paramref name="path"/>: every public class in it that implements
    /// <see cref="IAlgorithmRegistration"/> (with a public parameterless constructor) is created once, in name order, and each
    /// of its descriptors registered (<see cref="Register"/>; the same descriptor again is a no-op). This is how a command line
    /// or a worker node that was not compiled against your algorithm gets it. The assembly loads into the default load
    /// context, so it shares this one's <c>Advantage.Learning</c>; its own dependencies are found beside it.
    /// </summary>
    /// <param name="path">The .dll your algorithm's project builds.</param>
    /// <returns>The descriptors the assembly gave, in order.</returns>
    /// <exception cref="AlgorithmAssemblyException">
    /// The file is missing or not a .NET assembly, it fails to load, it exports no registration, its registrations give no
    /// descriptor, or one of them throws or is refused. The message is one line naming the file.
    /// </exception>
    public static IReadOnlyList<AlgorithmDescriptor> RegisterAssembly(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var registrations = Advantage.Environments.UserAssemblyLoader.Registrations(path, "algorithms", typeof(IAlgorithmRegistration),
            (message, inner) => inner is null ? new AlgorithmAssemblyException(message) : new AlgorithmAssemblyException(message, inner));
        var given = new List<AlgorithmDescriptor>();
        foreach (var type in registrations)
        {
            try
            {
                var registration = (IAlgorithmRegistration)Activator.CreateInstance(type)!;
                foreach (var descriptor in registration.Descriptors ?? throw new InvalidOperationException("Descriptors returned null."))
                {
                    Register(descriptor);
                    given.Add(descriptor);
                }
            }
            catch (Exception e)
            {
                var cause = e is System.Reflection.TargetInvocationException { InnerException: { } inner } ? inner : e;
                throw new AlgorithmAssemblyException($"'{path}': {type.FullName} failed: {cause.Message}", cause);
            }
        }
        if (given.Count == 0)
            throw new AlgorithmAssemblyException($"'{path}' exports no algorithms: {string.Join(", ", registrations.Select(t => t.FullName))} gave no descriptor.");
        return given;
    }

    /// <summary>The algorithm registered under <paramref name="name"/>, or null.</summary>
    public static AlgorithmDescriptor? Find(string name) => All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.Ordinal));

    /// <summary>The algorithm whose options <paramref name="options"/> are, or null when their type is not registered.</summary>
    public static AlgorithmDescriptor? Of(AlgorithmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return All.FirstOrDefault(d => d.OptionsType == options.GetType());
    }

    /// <summary>The algorithm registered under <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No algorithm has that name; the message lists the registered ones.</exception>
    public static AlgorithmDescriptor Get(string name) =>
        Find(name) ?? throw new ArgumentException(NotRegistered(name), nameof(name));

    /// <summary>One line saying that <paramref name="name"/> is not registered, which names are and how to add one.</summary>
    public static string NotRegistered(string name) =>
        $"algorithm '{name}' is not registered in this process (registered: {string.Join(", ", Names)}); register it with Algorithms.Register first.";

    private static string? Problem(AlgorithmDescriptor d)
    {
        if (string.IsNullOrWhiteSpace(d.Name) || d.Name.Any(c => char.IsWhiteSpace(c) || char.IsUpper(c)))
            return $"Algorithm name '{d.Name}' must be non-empty, lower case and without spaces (it is --algo's value).";
        if (d.OptionsType is null || !typeof(AlgorithmOptions).IsAssignableFrom(d.OptionsType) || d.OptionsType.IsAbstract)
            return $"Algorithm '{d.Name}': its options type must be a concrete record deriving from AlgorithmOptions.";
        if (d.Preset is null || d.CreateLearner is null || d.Options is null) return $"Algorithm '{d.Name}': Preset, CreateLearner and Options must be set.";
        var defaults = d.Preset("");
        if (defaults is null || defaults.GetType() != d.OptionsType || defaults.Algorithm != d.Name)
            return $"Algorithm '{d.Name}': its preset must return {d.OptionsType.Name} whose Algorithm is '{d.Name}' (got {defaults?.GetType().Name ?? "null"} '{defaults?.Algorithm}').";
        if (d.Options.FirstOrDefault(o => o is null || !o.DeclaringType.IsAssignableFrom(d.OptionsType)) is { } foreign)
            return $"Algorithm '{d.Name}': option {foreign?.Field} is not a field of {d.OptionsType.Name}.";
        return null;
    }
}
