using SdTune.Runtime;

Console.WriteLine(TorchRuntime.Describe());
return 0;
