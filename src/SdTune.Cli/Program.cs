return SdTune.Cli.SdTuneCli.Run(args);
