using System.Reflection;
using System.Runtime.Loader;

namespace Advantage.Environments;

/// <summary>
/// The one way an assembly of your own makes its environments known to tools that load it by path (the CLI's
/// <c>--environments MyEnvs.dll</c> for <c>train</c>, <c>eval</c>, <c>learner</c>, <c>worker</c>, <c>local-cluster</c>;
/// <see cref="EnvironmentRegistry.WithAssembly"/> from code). Implement it in a public class with a public parameterless
/// constructor; every such class in the assembly is created once and asked to add its ids. A worker node then makes
/// the run's environment by id from the same assembly, so no code travels between nodes.
/// </summary>
/// <example>
/// <code>
/// public sealed class MyEnvironments : IEnvironmentRegistration
/// {
///     public EnvironmentRegistry Register(EnvironmentRegistry registry) =>
///         registry.Register("Inventory-v0", () => new TimeLimit(new Inventory(), 100));
/// }
/// </code>
/// </example>
public interface IEnvironmentRegistration
{
    /// <summary>
    /// Returns <paramref name="registry"/> with this assembly's environments added (<see cref="EnvironmentRegistry.Register"/>).
    /// Registries are immutable: return the one <c>Register</c> gave back.
    /// </summary>
    EnvironmentRegistry Register(EnvironmentRegistry registry);
}

/// <summary>
/// An assembly named with <c>--environments</c> (or <see cref="EnvironmentRegistry.WithAssembly"/>) could not give its
/// environments: it is missing, not a .NET assembly, fails to load, exports no <see cref="IEnvironmentRegistration"/>, or
/// its registration failed. The message is one line meant for the user, naming the file and what to do.
/// </summary>
public sealed class EnvironmentAssemblyException : Exception
{
    /// <summary>Creates the exception with a message for the user.</summary>
    public EnvironmentAssemblyException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message for the user and the failure behind it.</summary>
    public EnvironmentAssemblyException(string message, Exception inner) : base(message, inner)
    {
    }

    /// <summary>Creates the exception without a message (serialization frameworks, analyzers).</summary>
    public EnvironmentAssemblyException()
    {
    }
}

/// <summary>
/// Loads a user's assembly by path into the default load context, so its types are the host's types: environments here,
/// algorithms in Advantage.Learning (one loader, one resolving hook, one set of messages for both).
/// </summary>
internal static class UserAssemblyLoader
{
    private static readonly Lock Gate = new();
    private static readonly List<AssemblyDependencyResolver> Resolvers = [];
    private static bool hooked;

    /// <summary>The registrations of an assembly of environments; failures are <see cref="EnvironmentAssemblyException"/>.</summary>
    public static IReadOnlyList<Type> EnvironmentRegistrations(string path) =>
        Registrations(path, "environments", typeof(IEnvironmentRegistration),
            (message, inner) => inner is null ? new EnvironmentAssemblyException(message) : new EnvironmentAssemblyException(message, inner));

    /// <summary>
    /// Loads the assembly at <paramref name="path"/>, or the same-named one already loaded. <paramref name="holds"/> names what
    /// the user's assembly is for ("environments", "algorithms"), and <paramref name="fail"/> makes the one-line exception.
    /// </summary>
    public static Assembly Load(string path, string holds, Func<string, Exception?, Exception> fail)
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw fail($"'{path}' is not a valid path: {e.Message}", e);
        }
        if (!File.Exists(full)) throw fail($"'{path}' does not exist; give the path of the .dll that holds your {holds}.", null);
        lock (Gate)
        {
            if (!hooked)
            {
                // The assembly's own dependencies (beside it, or named by its .deps.json) resolve from where it is.
                AssemblyLoadContext.Default.Resolving += Resolve;
                hooked = true;
            }
            Resolvers.Add(new AssemblyDependencyResolver(full));
        }
        try
        {
            var name = AssemblyName.GetAssemblyName(full);
            // Loaded already (a second flag naming it, or referenced by the host): the same assembly, not a copy.
            var loaded = AssemblyLoadContext.Default.Assemblies.FirstOrDefault(a => string.Equals(a.GetName().Name, name.Name, StringComparison.OrdinalIgnoreCase));
            return loaded ?? AssemblyLoadContext.Default.LoadFromAssemblyPath(full);
        }
        catch (BadImageFormatException e)
        {
            throw fail($"'{path}' is not a .NET assembly ({e.Message.TrimEnd('.')}); give the .dll your {holds} project builds.", e);
        }
        catch (Exception e) when (e is FileLoadException or FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            throw fail($"'{path}' could not be loaded: {e.Message}", e);
        }
    }

    /// <summary>
    /// The classes of the assembly at <paramref name="path"/> (loaded as <see cref="Load(string, string, Func{string, Exception?, Exception})"/>
    /// does) that implement <paramref name="registration"/> and have a public parameterless constructor, in name order; none is
    /// refused through <paramref name="fail"/>, saying what the assembly needs.
    /// </summary>
    public static IReadOnlyList<Type> Registrations(string path, string holds, Type registration, Func<string, Exception?, Exception> fail)
    {
        var assembly = Load(path, holds, fail);
        Type[] exported;
        try
        {
            exported = assembly.GetExportedTypes();
        }
        catch (Exception e) when (e is ReflectionTypeLoadException or TypeLoadException or FileNotFoundException or FileLoadException)
        {
            throw fail($"'{path}' could not be loaded: {e.Message}", e);
        }
        var found = exported
            .Where(t => registration.IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false, ContainsGenericParameters: false } && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToList();
        if (found.Count == 0)
            throw fail($"'{path}' exports no {holds}: it needs a public class implementing {registration.FullName} with a public parameterless constructor.", null);
        return found;
    }

    private static Assembly? Resolve(AssemblyLoadContext context, AssemblyName name)
    {
        AssemblyDependencyResolver[] resolvers;
        lock (Gate) resolvers = [.. Resolvers];
        foreach (var resolver in resolvers)
            if (resolver.ResolveAssemblyToPath(name) is { } found && File.Exists(found))
                return context.LoadFromAssemblyPath(found);
        return null;
    }
}
