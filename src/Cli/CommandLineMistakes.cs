using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace Advantage.Cli;

/// <summary>
/// What the command line itself cannot read (a value of the wrong type, an unknown option or command, a required option
/// left out), said as every other mistake of the user's is: one line naming the flag, exit code 2. System.CommandLine's
/// own answer is a page of help after the error and exit code 1, which scripts cannot tell from a failed run.
/// </summary>
internal static class CommandLineMistakes
{
    /// <summary>Parses <paramref name="args"/>; a mistake is printed as one line (exit code 2), anything else is invoked.</summary>
    public static int Invoke(RootCommand root, IReadOnlyList<string> args)
    {
        var parse = root.Parse(args);
        // --help answers even beside a mistake: the user is asking how to write the line.
        if (parse.Errors.Count == 0 || parse.Action is HelpAction) return parse.Invoke();
        Console.Error.WriteLine(Describe(parse));
        return 2;
    }

    /// <summary>The first mistake, in one line: a value first (the most specific), then a stray word, then a missing option.</summary>
    public static string Describe(ParseResult parse)
    {
        string command = CommandPath(parse.CommandResult);
        foreach (var error in parse.Errors)
        {
            var option = error.SymbolResult switch
            {
                OptionResult o => o,
                ArgumentResult { Parent: OptionResult o } => o,
                _ => null,
            };
            if (option is null) continue;
            string name = option.Option.Name;
            if (option.IdentifierToken is null) return $"{name} is required; see {command} --help.";
            return option.Tokens.Count == 0
                ? $"{name} needs a value; see {command} --help."
                : $"{name}: '{string.Join(' ', option.Tokens.Select(t => t.Value))}' is not {Kind(option.Option.ValueType)}.";
        }
        if (parse.UnmatchedTokens.Count > 0)
            return $"'{parse.UnmatchedTokens[0]}' is not an option or argument of {command}; see {command} --help.";
        foreach (var option in parse.CommandResult.Command.Options)
        {
            if (option.Required && parse.GetResult(option) is null)
                return $"{option.Name} is required; see {command} --help.";
        }
        string message = parse.Errors[0].Message;
        return message.Split('\n', 2)[0].TrimEnd() + $" (see {command} --help)";
    }

    /// <summary>What a value of this type looks like, as a user reads it.</summary>
    private static string Kind(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsArray) type = type.GetElementType()!;
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal)) return "a number";
        if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte) || type == typeof(uint) || type == typeof(ulong))
            return "a whole number";
        if (type == typeof(bool)) return "true or false";
        if (type.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant()));
        return "a valid value";
    }

    /// <summary>advantage-train and the subcommands to the one parsed, e.g. "advantage-train eval".</summary>
    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult c) names.Add(c.Parent is null ? "advantage-train" : c.Command.Name);
        }
        names.Reverse();
        return string.Join(' ', names);
    }
}
