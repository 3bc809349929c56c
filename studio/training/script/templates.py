"""The fixed part of the training script: the backend choice made before keras is imported, data loading with the
studio's offline fallback, argument parsing, distribution, fit, evaluate and save. No spec value is ever written
into this text: the script reads the spec's values from the constants the generator writes above it
(``DATASET``, ``INPUT_NAMES``, ``EPOCHS`` ...).
"""

from __future__ import annotations

BACKEND_CODE = r'''
# Across hosts the script trains with Keras's own distribution API (keras.distribution.DataParallel), which
# runs on the JAX backend; everything else runs on TensorFlow. The backend must be chosen before keras is
# imported, so --distribute is read here first. TensorFlow's multi-worker way (TF_CONFIG with
# tf.distribute.MultiWorkerMirroredStrategy) is not offered: Keras 3 does not support it (its fit fails with
# "Attempt to convert a value (PerReplica ...) to a Tensor", keras-team/keras#20585).
def wants_multihost(argv):
    """Whether the command line asks for --distribute multihost."""
    return "--distribute=multihost" in argv or any(
        a == "--distribute" and b == "multihost" for a, b in zip(argv, argv[1:], strict=False)
    )


if wants_multihost(sys.argv[1:]):
    try:
        import jax  # noqa: F401
    except ImportError:
        raise SystemExit("error: --distribute multihost trains on the JAX backend: pip install jax") from None
    os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
'''

DATA_CODE = r'''
def load_image_set(name, offline):
    """(x_train, y_train, x_test, y_test) as uint8 images and int labels: Keras's copy, else a fallback."""
    if not offline:
        try:
            (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
            print(f"Data: full {name} from keras.datasets.{name}")
            return x_train, y_train.reshape(-1), x_test, y_test.reshape(-1)
        except Exception as error:  # no network and no cached copy
            print(f"Data: keras.datasets.{name} is unavailable ({str(error).splitlines()[0][:120]})")
    sample = next((path for path in (Path(SAMPLE_FILE), Path(__file__).with_name("mnist_5k.npz")) if path.is_file()), None)
    if name == "mnist" and sample is not None:
        with np.load(sample) as data:
            images, labels = data["x"], data["y"]
        order = np.random.default_rng(0).permutation(len(labels))
        test = np.sort(np.concatenate([order[labels[order] == digit][:100] for digit in range(10)]))
        train = order[~np.isin(order, test)]  # shuffled: the file is sorted by digit
        print(f"Data: the offline MNIST sample {sample} (4,000 train / 1,000 test real digits)")
        return images[train], labels[train], images[test], labels[test]
    print("Data: WARNING: no real data available; random images stand in (the results mean nothing)")
    rng = np.random.default_rng(0)
    shape = (32, 32, 3) if name == "cifar10" else (28, 28)
    return (rng.integers(0, 256, (1000, *shape), dtype=np.uint8), rng.integers(0, 10, 1000),
            rng.integers(0, 256, (200, *shape), dtype=np.uint8), rng.integers(0, 10, 200))


def load_file(path):
    """Your own data: an NPZ with one array per input/output (named after them, or x/y; `<name>_test` optional)
    or a CSV with a header (columns `<name>` or `<name>_0, <name>_1, ...`; with one input and one output a
    `label`/`target`/`y` column, or the last one, is the target)."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    else:
        table = np.genfromtxt(path, delimiter=",", names=True, dtype="float32")
        columns = list(table.dtype.names)
        arrays = {}
        for name in INPUT_NAMES + OUTPUT_NAMES:
            found = [c for c in columns if c == name or c.rsplit("_", 1)[0] == name and c.rsplit("_", 1)[1].isdigit()]
            if found:
                arrays[name] = np.stack([table[c] for c in found], axis=1)
        if not arrays and len(INPUT_NAMES) == 1:
            label = [] if AUTOENCODER else [next((c for c in columns if c.lower() in ("label", "target", "y", "class")), columns[-1])]
            arrays = {"x": np.stack([table[c] for c in columns if c not in label], axis=1)}
            if label:
                arrays["y"] = table[label[0]]
    def pick(name, alias, suffix=""):
        for key in (name + suffix, alias + suffix) if alias else (name + suffix,):
            if key in arrays:
                return arrays[key]
        return None
    x = [pick(n, "x" if len(INPUT_NAMES) == 1 else None) for n in INPUT_NAMES]
    y = [x[0]] if AUTOENCODER else [pick(n, "y" if len(OUTPUT_NAMES) == 1 else None) for n in OUTPUT_NAMES]
    missing = [n for n, a in zip(INPUT_NAMES + OUTPUT_NAMES, x + y, strict=False) if a is None]
    if missing:
        raise SystemExit(f"error: {path} has no data for {', '.join(missing)}; found: {', '.join(arrays)}")
    x_test = [pick(n, "x" if len(INPUT_NAMES) == 1 else None, "_test") for n in INPUT_NAMES]
    y_test = [x_test[0]] if AUTOENCODER else [pick(n, "y" if len(OUTPUT_NAMES) == 1 else None, "_test") for n in OUTPUT_NAMES]
    if any(a is None for a in x_test + y_test):  # no test arrays: the last 10% are the test set
        cut = len(x[0]) - max(1, len(x[0]) // 10)
        x, x_test, y, y_test = [a[:cut] for a in x], [a[cut:] for a in x], [a[:cut] for a in y], [a[cut:] for a in y]
    print(f"Data: your file {path} ({len(x[0]):,} training and {len(x_test[0]):,} test samples)")
    return x, y, x_test, y_test, INPUT_NAMES, OUTPUT_NAMES


def load_data(offline, data_file=None):
    """The dataset chosen in the studio as (x_train, y_train, x_test, y_test, input names, output names)."""
    if DATASET == "file":
        if not data_file:
            raise SystemExit("error: this model was trained on your own data file: pass it with --data-file PATH (.npz or .csv)")
        return load_file(data_file)
    base = DATASET.removesuffix("_autoencoder")
    if base in ("mnist", "fashion_mnist", "cifar10") or DATASET == "mnist_thumbnails":
        x_train, y_train, x_test, y_test = load_image_set("mnist" if DATASET == "mnist_thumbnails" else base, offline)
        x_train, x_test = (x.astype("float32") / 255.0 for x in (x_train, x_test))
        if x_train.ndim == 3:
            x_train, x_test = x_train[..., None], x_test[..., None]
        if DATASET == "mnist_thumbnails":  # each digit averaged down to 4x4 = 16 numbers -> the 28x28 digit
            def shrink(x):
                return x[..., 0].reshape(-1, 4, 7, 4, 7).mean(axis=(2, 4)).reshape(-1, 16)
            return [shrink(x_train)], [x_train], [shrink(x_test)], [x_test], ["code"], ["image"]
        if DATASET.endswith("_autoencoder"):
            return [x_train], [x_train], [x_test], [x_test], ["image"], ["reconstruction"]
        return [x_train], [y_train], [x_test], [y_test], ["image"], ["label"]
    rng = np.random.default_rng(SEED)
    if DATASET == "tickets":  # the tutorial's section 3 data
        total = 1280 + 256
        title = rng.integers(NUM_WORDS, size=(total, 10))
        body = rng.integers(NUM_WORDS, size=(total, 100))
        tags = rng.integers(2, size=(total, NUM_TAGS)).astype("float32")
        priority = rng.random(size=(total, 1)).astype("float32")
        department = rng.integers(2, size=(total, NUM_DEPARTMENTS)).astype("float32")
        x, y = [body, title, tags], [priority, department]
        return [a[:1280] for a in x], [a[:1280] for a in y], [a[1280:] for a in x], [a[1280:] for a in y], \
            ["body", "title", "tag"], ["priority", "department"]
    if DATASET == "shared_ints":  # targets: each id's row of a hidden random table
        table = rng.normal(0.0, 0.5, size=(100, 64)).astype("float32")
        first, second = (rng.integers(100, size=(1536, 10)).astype("int32") for _ in range(2))
        x, y = [first, second], [table[first], table[second]]
        return [a[:1280] for a in x], [a[:1280] for a in y], [a[1280:] for a in x], [a[1280:] for a in y], \
            ["input1", "input2"], ["feat1", "feat2"]
    print("Data: WARNING: random arrays shaped like the model's inputs and outputs (no data was chosen in the studio)")
    return None


def synthetic_like(model, count):
    """Random inputs and targets with the model's shapes (None dimensions become 8)."""
    rng = np.random.default_rng(SEED)
    def shaped(tensor):
        return (count, *(8 if size is None else size for size in tensor.shape[1:]))
    x = [rng.random(shaped(t)).astype("float32") for t in model.inputs]
    y = [rng.random(shaped(t)).astype("float32") for t in model.outputs]
    return x, y


def adapt(array, shape, what):
    """Reshape samples to the model's per-sample shape when only the layout differs (784 <-> 28x28x1)."""
    want = tuple(shape)
    have = array.shape[1:]
    if len(have) == len(want) and all(w is None or w == h for h, w in zip(have, want, strict=True)):
        return array
    if None not in want and int(np.prod(have)) == int(np.prod(want)):
        return array.reshape((len(array), *want))
    raise SystemExit(f"error: {what} expects samples of shape {want}; the data gives {have}")


def adapt_target(array, shape, loss, what):
    """Labels in the form the loss wants: class numbers, one-hot rows, or values shaped like the output."""
    classes = shape[-1] if len(shape) else None
    if loss == "sparse_categorical_crossentropy":
        return (array.argmax(axis=1) if array.ndim == 2 and array.shape[1] > 1 else array.reshape(-1)).astype("int64")
    if loss == "categorical_crossentropy" and classes and classes > 1 and array.reshape(len(array), -1).shape[1] == 1:
        return np.eye(classes, dtype="float32")[array.reshape(-1).astype("int64")]
    return adapt(array, shape, what).astype("float32")


def arrays_for(model, arrays, names, wanted, kind):
    """The data's arrays in the model's order: by name when all names match, else by position."""
    if sorted(names) == sorted(wanted):
        return [arrays[names.index(name)] for name in wanted]
    if len(arrays) != len(wanted):
        raise SystemExit(f"error: the model has {len(wanted)} {kind}s ({', '.join(wanted)}); the data has {len(arrays)}")
    return list(arrays)


def prepare(model, data, max_samples):
    """Data mapped and shaped onto the model's inputs and outputs, cut to max_samples if given."""
    if data is None:
        x_train, y_train = synthetic_like(model, 512)
        x_test, y_test = synthetic_like(model, 128)
    else:
        x_train, y_train, x_test, y_test, input_names, output_names = data
        x_train, x_test = (arrays_for(model, x, input_names, INPUT_NAMES, "input") for x in (x_train, x_test))
        y_train, y_test = (arrays_for(model, y, output_names, OUTPUT_NAMES, "output") for y in (y_train, y_test))
    def inputs(arrays):
        return [adapt(a, t.shape[1:], f"input '{n}'") for a, t, n in zip(arrays, model.inputs, INPUT_NAMES, strict=True)]
    def targets(arrays):
        return [adapt_target(a, t.shape[1:], loss, f"output '{n}'")
                for a, t, loss, n in zip(arrays, model.outputs, LOSSES, OUTPUT_NAMES, strict=True)]
    x_train, x_test, y_train, y_test = inputs(x_train), inputs(x_test), targets(y_train), targets(y_test)
    if max_samples:
        x_train, y_train = [a[:max_samples] for a in x_train], [a[:max_samples] for a in y_train]
        x_test, y_test = [a[:max_samples] for a in x_test], [a[:max_samples] for a in y_test]
    return x_train, y_train, x_test, y_test
'''

MAIN_CODE = r'''
DISTRIBUTE_HELP = """\
--distribute:
  none       one device (a GPU if TensorFlow sees one, else the CPU)
  mirrored   every GPU of this host, in sync (TensorFlow's MirroredStrategy)
  multihost  several hosts, one process each, in sync: Keras's distribution API (DataParallel) on the
             JAX backend (pip install jax). Start the same command on every host with --coordinator
             HOST:PORT (process 0's address) --num-processes N --process-id I (or KFS_COORDINATOR,
             KFS_NUM_PROCESSES, KFS_PROCESS_ID; or none of them where JAX detects the cluster itself:
             Slurm, Open MPI ...). Each process reads its own shard of the data; process 0 saves.
  There is no TF_CONFIG multi-worker mode: Keras 3 does not support TensorFlow's
  MultiWorkerMirroredStrategy (keras-team/keras#20585)."""


def make_strategy(kind):
    """The tf.distribute strategy for --distribute none or mirrored (none: the default strategy, one device)."""
    import tensorflow as tf

    if kind == "mirrored":
        return tf.distribute.MirroredStrategy()  # every local GPU (or the CPU), in sync
    return tf.distribute.get_strategy()


def start_multihost(args):
    """Join the other processes (jax.distributed) and spread each batch over every device of every process.

    Returns this process's index, the number of processes and the number of devices here and in all."""
    import jax

    coordinator = args.coordinator or os.environ.get("KFS_COORDINATOR")
    processes = args.num_processes or int(os.environ.get("KFS_NUM_PROCESSES", "0")) or None
    process = args.process_id if args.process_id is not None else os.environ.get("KFS_PROCESS_ID")
    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU processes talk through gloo
    except (AttributeError, ValueError):  # an older or newer JAX without the option
        pass
    try:  # all None: JAX detects the cluster itself (Slurm, Open MPI, Kubernetes, Cloud TPU ...)
        jax.distributed.initialize(coordinator, processes, None if process is None else int(process))
    except (ValueError, RuntimeError) as error:
        raise SystemExit(f"error: --distribute multihost could not join the other processes: {error}\n"
                         "Give every process --coordinator HOST:PORT (process 0's address) --num-processes N "
                         "--process-id I, or KFS_COORDINATOR, KFS_NUM_PROCESSES and KFS_PROCESS_ID.") from None
    # Every process feeds its own shard of the data (see shard); Keras makes one global batch of them.
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices(), auto_shard_dataset=False))
    return jax.process_index(), jax.process_count(), jax.local_device_count(), jax.device_count()


def shard(arrays, index, count, multiple):
    """Process `index` of `count`'s share of the samples: every count-th one, as many on every process (a multiple
    of its devices), so that all processes take the same number of steps."""
    size = len(arrays[0]) // count // multiple * multiple
    return [a[index::count][:size] for a in arrays]


def hold_out(arrays, fraction, multiple):
    """(training, validation) arrays: the last `fraction` held out as validation_split does, both a multiple of
    `multiple` samples (each process then splits its batches evenly over its devices)."""
    count = int(len(arrays[0]) * fraction) // multiple * multiple
    cut = len(arrays[0]) - count
    return [a[:cut] for a in arrays], [a[cut:] for a in arrays]


def one_or_list(arrays):
    """One array for a single input or output, else the list."""
    return arrays[0] if len(arrays) == 1 else arrays


def save_weights_summary(model, x_test, path):
    """The final weights (w0, w1 ...), the first test samples (x0, x1 ...: one array per input) and what the model
    predicts for them (p0, p1 ...: one per output) in an .npz, to compare processes or the saved model."""
    copy = build_model()  # predicts on this process alone (model.predict would need every process of a multihost run)
    copy.set_weights(model.get_weights())
    samples = [a[:8] for a in x_test]
    predictions = copy.predict(one_or_list(samples), verbose=0)
    predictions = predictions if isinstance(predictions, (list, tuple)) else [predictions]
    arrays = {**{f"w{i}": np.asarray(w) for i, w in enumerate(model.get_weights())},
              **{f"x{i}": a for i, a in enumerate(samples)}, **{f"p{i}": np.asarray(p) for i, p in enumerate(predictions)}}
    np.savez(path, **arrays)


def main():
    """Parse the flags, then load, build, compile, fit, evaluate and save."""
    parser = argparse.ArgumentParser(description=__doc__, epilog=DISTRIBUTE_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="per device; the global batch is this times the devices")
    parser.add_argument("--max-samples", type=int, default=0, help="use at most this many training (and test) samples")
    parser.add_argument("--distribute", choices=("none", "mirrored", "multihost"), default="none",
                        help="none: one device; mirrored: every local GPU (TensorFlow); multihost: one process per host (JAX)")
    parser.add_argument("--coordinator", help="multihost: HOST:PORT of process 0, the same for every process")
    parser.add_argument("--num-processes", type=int, help="multihost: how many processes (hosts) train together")
    parser.add_argument("--process-id", type=int, help="multihost: this process's number, 0 to N-1 (0 saves the model)")
    parser.add_argument("--offline", action="store_true", help="never try to download data (also: STUDIO_OFFLINE=1)")
    parser.add_argument("--data-file", help="your own data (.npz or .csv) when the studio trained on an uploaded file")
    parser.add_argument("--output", default=OUTPUT_FILE, help="where to save the trained model (.keras or .h5)")
    parser.add_argument("--weights-summary", help="also write the final weights and a few predictions to this .npz")
    args = parser.parse_args()

    if args.distribute == "multihost":  # first: before JAX computes anything
        process, processes, local_devices, devices = start_multihost(args)
        scope = contextlib.nullcontext()  # the distribution set above lays out the variables
    else:
        strategy = make_strategy(args.distribute)
        process, processes, local_devices = 0, 1, strategy.num_replicas_in_sync
        devices, scope = local_devices, strategy.scope()
    keras.utils.set_random_seed(SEED)  # the same seed in every process: the same initial weights everywhere
    offline = args.offline or os.environ.get("STUDIO_OFFLINE", "") not in ("", "0")
    data = load_data(offline, args.data_file)
    with scope:  # variables (model and optimizer) are created on every device
        model = build_model()
        compile_model(model)
    x_train, y_train, x_test, y_test = prepare(model, data, args.max_samples)
    fit_options = {"validation_split": VALIDATION_SPLIT}
    if args.distribute == "multihost":  # each process reads its own shard; the losses and metrics are over all of them
        x_train, y_train = (shard(a, process, processes, local_devices) for a in (x_train, y_train))
        x_test, y_test = (shard(a, process, processes, local_devices) for a in (x_test, y_test))
        (x_train, x_valid), (y_train, y_valid) = (hold_out(a, VALIDATION_SPLIT, local_devices) for a in (x_train, y_train))
        fit_options = {"validation_data": (one_or_list(x_valid), one_or_list(y_valid)) if len(x_valid[0]) else None}
    batch_size = args.batch_size * local_devices  # what this process feeds per step
    print(f"Process {process} of {processes}: training on {len(x_train[0]):,} samples, {devices} device(s), "
          f"global batch {args.batch_size * devices}")
    callbacks = [keras.callbacks.EarlyStopping(monitor=MONITOR, patience=PATIENCE)] if PATIENCE else []
    history = model.fit(one_or_list(x_train), one_or_list(y_train), batch_size=batch_size, epochs=args.epochs,
                        shuffle=SHUFFLE, callbacks=callbacks, verbose=2, **fit_options)
    scores = model.evaluate(one_or_list(x_test), one_or_list(y_test), batch_size=batch_size, verbose=0, return_dict=True)
    print("Test:", ", ".join(f"{name} {value:.4f}" for name, value in scores.items()))
    if processes > 1:  # from here on each process works alone: saving creates variables (a spare optimizer)
        keras.distribution.set_distribution(None)
    if args.weights_summary:
        save_weights_summary(model, x_test, args.weights_summary)
    if process == 0:  # one copy of the model: every process holds the same weights
        model.save(args.output)
        print(f"Saved the trained model to {args.output}")
    epochs = {name: [float(v) for v in values] for name, values in history.history.items()}
    print("RESULT " + json.dumps({"process": process, "test": {k: float(v) for k, v in scores.items()}, "history": epochs}))


if __name__ == "__main__":
    main()
'''
