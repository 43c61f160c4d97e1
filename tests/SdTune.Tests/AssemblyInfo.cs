// libtorch uses the process's threads; running test classes in parallel on 2 cores only adds contention.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
