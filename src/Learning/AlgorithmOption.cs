using System.Globalization;
using System.Reflection;
using System.Text;

namespace Advantage.Learning;

/// <summary>The allowed values of a numeric option, with open or closed ends.</summary>
/// <param name="Minimum">The smallest value (or the open lower end).</param>
/// <param name="Maximum">The largest value (or the open upper end).</param>
/// <param name="MinimumInclusive">Whether <paramref name="Minimum"/> itself is allowed.</param>
/// <param name="MaximumInclusive">Whether <paramref name="Maximum"/> itself is allowed.</param>
public sealed record OptionRange(double Minimum, double Maximum, bool MinimumInclusive = true, bool MaximumInclusive = true)
{
    /// <summary>Whether <paramref name="value"/> is finite and inside the range.</summary>
    public bool Contains(double value) =>
        double.IsFinite(value)
        && (MinimumInclusive ? value >= Minimum : value > Minimum)
        && (MaximumInclusive ? value <= Maximum : value < Maximum);

    /// <summary>The range as every message writes it: <c>[0, 1]</c>, <c>(0, 1e6]</c>.</summary>
    public override string ToString() =>
        $"{(MinimumInclusive ? "[" : "(")}{Number(Minimum)}, {Number(Maximum)}{(MaximumInclusive ? "]" : ")")}";

    /// <summary>
    /// The one line for a <paramref name="field"/> whose <paramref name="value"/> is outside this range (<c>Workers = 0 is
    /// outside [1, 1024].</c>), or null inside it: every options record's range messages read alike and name the range once.
    /// </summary>
    internal string? Problem(string field, long value) =>
        Contains(value) ? null : $"{field} = {value.ToString(CultureInfo.InvariantCulture)} is outside {this}.";

    /// <inheritdoc cref="Problem(string, long)"/>
    internal string? Problem(string field, double value) => Contains(value) ? null : $"{field} = {Number(value)} is outside {this}.";

    internal static string Number(double v) => v.ToString("G", CultureInfo.InvariantCulture);
}

/// <summary>Adding the problems an options record's checks found.</summary>
internal static class OptionProblems
{
    /// <summary>Adds <paramref name="problem"/> when there is one (a check such as <see cref="OptionRange.Problem(string, long)"/> found it).</summary>
    public static void AddIf(this ICollection<string> problems, string? problem)
    {
        if (problem is not null) problems.Add(problem);
    }
}

/// <summary>
/// One option of an algorithm, defined once: the field of its options record, the command-line flag, the help text, the
/// allowed range and the name in TensorBoard's hyperparameter table. Validation messages, <c>--help</c>, the flags'
/// parsing and the hyperparameter table are all derived from these definitions, so an option cannot be documented in one
/// place and checked against another range in the next. Each <see cref="AlgorithmDescriptor.Options"/> lists its algorithm's.
/// </summary>
public sealed record AlgorithmOption
{
    private readonly PropertyInfo property;

    /// <summary>Defines the option for field <paramref name="field"/> of <paramref name="declaringType"/>.</summary>
    /// <param name="declaringType">The options record (or <see cref="AlgorithmOptions"/> for a shared field).</param>
    /// <param name="field">The property's name (use <c>nameof</c>).</param>
    /// <param name="flag">The command-line flag (<c>--clip-range</c>), or null for an option only code sets.</param>
    /// <param name="help">What the option does, for <c>--help</c> (without the default, which is added from the preset).</param>
    /// <exception cref="ArgumentException">The type has no public, settable property of that name.</exception>
    public AlgorithmOption(Type declaringType, string field, string? flag, string help)
    {
        ArgumentNullException.ThrowIfNull(declaringType);
        ArgumentException.ThrowIfNullOrWhiteSpace(field);
        ArgumentNullException.ThrowIfNull(help);
        if (!typeof(AlgorithmOptions).IsAssignableFrom(declaringType))
            throw new ArgumentException($"{declaringType.Name} does not derive from AlgorithmOptions.", nameof(declaringType));
        property = declaringType.GetProperty(field, BindingFlags.Public | BindingFlags.Instance)
            ?? throw new ArgumentException($"{declaringType.Name} has no public property '{field}'.", nameof(field));
        if (property.SetMethod is not { IsPublic: true }) throw new ArgumentException($"{declaringType.Name}.{field} cannot be set.", nameof(field));
        if (flag is not null && (!flag.StartsWith("--", StringComparison.Ordinal) || flag.Length < 3))
            throw new ArgumentException($"Flag '{flag}' must start with -- and name something.", nameof(flag));
        DeclaringType = declaringType;
        Field = field;
        Flag = flag;
        Help = help;
        Hyperparameter = SnakeCase(field);
    }

    /// <summary>The options record that declares the field.</summary>
    public Type DeclaringType { get; }

    /// <summary>The property's name on the options record, as validation messages name it.</summary>
    public string Field { get; }

    /// <summary>The command-line flag, or null when only code sets this option.</summary>
    public string? Flag { get; }

    /// <summary>What the option does, one sentence for <c>--help</c>.</summary>
    public string Help { get; }

    /// <summary>The option's type (<c>double</c>, <c>int?</c>, an enum, <c>IReadOnlyList&lt;int&gt;</c>, ...).</summary>
    public Type ValueType => property.PropertyType;

    /// <summary>Its key in TensorBoard's hyperparameter table; default the field in snake case; null leaves it out.</summary>
    public string? Hyperparameter { get; init; }

    /// <summary>The allowed values of a numeric option (of every element of a list), or null for no range check.</summary>
    public OptionRange? Range { get; init; }

    /// <summary>
    /// A rule beyond <see cref="Range"/> (a device name's form): the problem in one line naming the field, or null. Default none.
    /// </summary>
    public Func<AlgorithmOptions, string?>? Rule { get; init; }

    /// <summary>
    /// What setting this option also changes (setting GAE's lambda chooses GAE), applied by <see cref="Set"/>. Default none.
    /// </summary>
    public Func<AlgorithmOptions, AlgorithmOptions>? Implies { get; init; }

    /// <summary>
    /// For a flag that takes no argument (<c>--n-step</c>): the value it sets. Null (the default) for a flag with a value.
    /// </summary>
    public object? SwitchValue { get; init; }

    /// <summary>What a null value means, for <c>--help</c> and the hyperparameter table (<c>none</c>, <c>one per worker</c>). Default "none".</summary>
    public string NullMeans { get; init; } = "none";

    /// <summary>The option's value in <paramref name="options"/>.</summary>
    public object? Get(AlgorithmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return property.GetValue(options);
    }

    /// <summary>
    /// A copy of <paramref name="options"/> (same concrete type) with this option set to <paramref name="value"/>: what a
    /// C# <c>with</c> does, for callers that hold the definition rather than the property (the command line, F#).
    /// </summary>
    /// <exception cref="ArgumentException">The value does not fit the option's type.</exception>
    public AlgorithmOptions Set(AlgorithmOptions options, object? value)
    {
        ArgumentNullException.ThrowIfNull(options);
        var copy = options.Copy();
        try
        {
            property.SetValue(copy, value is int[] list && ValueType == typeof(IReadOnlyList<int>) ? list.ToArray() : value);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{Field} takes {TypeName}, not {value?.GetType().Name ?? "null"}.", nameof(value), e);
        }
        return Implies is null ? copy : Implies(copy);
    }

    /// <summary>The value as <c>--help</c> and the hyperparameter table write it (invariant culture; null as <c>none</c>).</summary>
    public string Format(object? value) => value switch
    {
        null => NullMeans,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IEnumerable<int> list => string.Join(" ", list),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>The value of a flag's argument: a number, <c>true</c>/<c>false</c>, an enum name (any case), or numbers for a list.</summary>
    /// <exception cref="FormatException">The text is not a value of this option; the message names the flag and what it takes.</exception>
    public object Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var type = Nullable.GetUnderlyingType(ValueType) ?? ValueType;
        var invariant = CultureInfo.InvariantCulture;
        object? value =
            type == typeof(double) ? (double.TryParse(text, NumberStyles.Float, invariant, out double d) ? d : null)
            : type == typeof(int) ? (int.TryParse(text, NumberStyles.Integer, invariant, out int i) ? i : null)
            : type == typeof(bool) ? (bool.TryParse(text, out bool b) ? b : null)
            : type.IsEnum ? (Enum.TryParse(type, text, ignoreCase: true, out object? e) && Enum.IsDefined(type, e!) ? e : null)
            : type == typeof(IReadOnlyList<int>) ? ParseList(text)
            : type == typeof(string) ? text
            : null;
        return value ?? throw new FormatException($"{Flag ?? Field}: '{text}' is not {TypeName}.");
    }

    /// <summary>What is wrong with this option's value in <paramref name="options"/>, in one line naming the field, or null.</summary>
    public string? Problem(AlgorithmOptions options)
    {
        if (Rule?.Invoke(options) is { } broken) return broken;
        object? value = Get(options);
        var type = Nullable.GetUnderlyingType(ValueType) ?? ValueType;
        if (value is null) return Nullable.GetUnderlyingType(ValueType) is null && !ValueType.IsValueType ? $"{Field} must be set." : null;
        if (type.IsEnum)
            return Enum.IsDefined(type, value) ? null : $"{Field} = {value} is not one of {string.Join(", ", Enum.GetNames(type))}.";
        if (Range is not { } range) return null;
        return value switch
        {
            double d => range.Problem(Field, d),
            int i => range.Problem(Field, i),
            IReadOnlyList<int> { Count: 0 } => $"{Field} must list at least one value, each in {range}.",
            IReadOnlyList<int> list when list.Any(x => !range.Contains(x)) => $"{Field} = [{string.Join(", ", list)}] has a value outside {range}.",
            _ => null,
        };
    }

    private string TypeName
    {
        get
        {
            var type = Nullable.GetUnderlyingType(ValueType) ?? ValueType;
            return type == typeof(double) ? "a number"
                : type == typeof(int) ? "an integer"
                : type == typeof(bool) ? "true or false"
                : type.IsEnum ? $"one of {string.Join(", ", Enum.GetNames(type))}"
                : type == typeof(IReadOnlyList<int>) ? "integers"
                : $"a {type.Name}";
        }
    }

    private static int[]? ParseList(string text)
    {
        var parts = text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries);
        var values = new int[parts.Length];
        for (int k = 0; k < parts.Length; k++)
            if (!int.TryParse(parts[k], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[k])) return null;
        return parts.Length > 0 ? values : null;
    }

    private static string SnakeCase(string name)
    {
        var s = new StringBuilder();
        for (int k = 0; k < name.Length; k++)
        {
            if (char.IsUpper(name[k]) && k > 0 && !char.IsUpper(name[k - 1])) s.Append('_');
            s.Append(char.ToLowerInvariant(name[k]));
        }
        return s.ToString();
    }
}
