using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace SdTune.Cli.Errors;

/// <summary>
/// Says in one line what is wrong with a command line that did not parse: the command and the option or argument
/// concerned, and what was expected. (System.CommandLine's own response prints the whole help.)
/// </summary>
internal static class ParseErrorMessage
{
    /// <summary>The first problem of <paramref name="parse"/> (which has errors), in one line.</summary>
    public static string Describe(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var path = CommandPath(parse.CommandResult);
        // An unknown option can also have been taken as the value of an argument.
        if (parse.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens).FirstOrDefault(t => LooksLikeOption(t.Value)) is { } misplaced)
        {
            return UnknownOption(path, misplaced.Value);
        }

        if (parse.UnmatchedTokens.Count > 0)
        {
            var token = parse.UnmatchedTokens[0];
            if (LooksLikeOption(token))
            {
                return UnknownOption(path, token);
            }

            return command.Subcommands.Count > 0
                ? $"{path}: unknown command '{token}'; commands: {Names(command)}"
                : $"{path}: unexpected argument '{token}' (see {path} --help)";
        }

        var error = parse.Errors[0];
        return error.SymbolResult switch
        {
            OptionResult option => Describe(option, error, path),
            ArgumentResult { Argument: var argument, Tokens.Count: 0 } => $"{path} needs {argument.Name.ToUpperInvariant()} (see {path} --help)",
            CommandResult { Command: var c } when c.Subcommands.Count > 0 => $"{path} needs a command: {Names(c)} (see {path} --help)",
            _ => $"{path}: {error.Message}",
        };
    }

    /// <summary>The one line for an unknown option <paramref name="token"/> of the command <paramref name="path"/>.</summary>
    public static string UnknownOption(string path, string token) => $"{path}: unknown option '{token}' (see {path} --help)";

    /// <summary>Whether a token is written as an option (a negative number is not).</summary>
    public static bool LooksLikeOption(string token) =>
        token.Length > 1 && token[0] == '-' && !double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    private static string Describe(OptionResult result, ParseError error, string path)
    {
        var option = result.Option;
        var name = option.Name;
        if (result.IdentifierToken is null)
        {
            return $"{path} needs {name} (see {path} --help)";
        }

        var tokens = result.Tokens;
        if (tokens.Count == 0)
        {
            return $"{name} needs a value";
        }

        if (option.Arity.MaximumNumberOfValues == 1 && tokens.Count > 1)
        {
            return $"{name} takes one value, got {tokens.Count}: {string.Join(", ", tokens.Select(t => $"'{t.Value}'"))}";
        }

        var value = tokens[^1].Value;
        return ExpectedValue(Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType, value) is { } expected
            ? $"{name}: '{value}' is not {expected}"
            : $"{name}: {error.Message}";
    }

    /// <summary>What a value of <paramref name="type"/> looks like, when <paramref name="value"/> is not one; null when it is.</summary>
    private static string? ExpectedValue(Type type, string value)
    {
        static string Whole<T>(string value)
            where T : IMinMaxValue<T>, IFormattable =>
            BigInteger.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                ? string.Create(CultureInfo.InvariantCulture, $"a whole number from {T.MinValue} to {T.MaxValue}")
                : "a whole number";

        return type switch
        {
            _ when type == typeof(int) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? null : Whole<int>(value),
            _ when type == typeof(long) => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? null : Whole<long>(value),
            _ when type == typeof(double) || type == typeof(float) => "a number",
            _ when type == typeof(bool) => "true or false",
            _ => null,
        };
    }

    /// <summary>"sdtune train lora": the command as typed, whatever the executable is called.</summary>
    public static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? current = result; current is not null; current = current.Parent)
        {
            if (current is CommandResult { Command: var command })
            {
                names.Add(command is RootCommand ? "sdtune" : command.Name);
            }
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    private static string Names(Command command) => string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
}
