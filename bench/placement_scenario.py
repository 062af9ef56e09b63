# Placement requests made by the compute services around a cross-host resize.
#
# Python 2.7 and 3 code, run INSIDE a Nova tree with the release venv's python:
#
#     cd TREE && python /work/main/bench/placement_scenario.py SCENARIO
#
# The tree (the current directory) goes first on sys.path, so its nova is the
# one imported, whatever tree the venv's develop install points at. The test
# case below only uses ProviderUsageBaseTestCase (integrated_helpers on master,
# Stein and Rocky, test_servers on Queens and Pike) and the plain fake driver,
# so it runs on the released code as well as on a tree with the series
# applied, on every affected release.
#
# Scenarios (a server of m1.tiny on host1, resized to m1.small; host2 is the
# only other host, so the scheduler picks it):
#
#   fail-prep-resize     ComputeManager._prep_resize raises on host2,
#   fail-resize-instance FakeDriver.migrate_disk_and_power_off raises on
#                        host1 (before the host switch),
#   fail-cast-finish     casting finish_resize from host1 raises (after the
#                        host switch),
#   fail-finish-resize   FakeDriver.finish_migration raises on host2.
#   fail-revert-before-destroy  the resize went through; reverting it,
#                        revert_resize raises on host2 before it destroys the
#                        guest there (its shared storage check).
#   fail-revert-resize   the resize went through; reverting it, the
#                        FakeDriver.destroy of revert_resize raises on host2.
#   fail-finish-revert   the same, FakeDriver.finish_revert_migration raises
#                        on host1 (after finish_revert_resize pointed the
#                        server back at host1).
#            Counted: from the moment it raises until the error path of the
#            failed compute method is over (the server in ERROR and the
#            failed instance action event recorded).
#   success  the real fake driver. Counted: from the resize request until the
#            server is in VERIFY_RESIZE and the migration 'finished' (and the
#            resize_finish.end notification is out).
#   success-migrate  the same for a cold migration (same flavor).
#
# Only the requests of the compute services' SchedulerReportClient are
# counted; those of the scheduler and conductor in the same window are listed
# apart (other_services). Prints one JSON object.

from __future__ import print_function

import os
import sys

sys.path.insert(0, os.getcwd())

# eventlet's monkey patching must come before the rest: Stein has a module
# that patches when imported, the older releases do it when
# nova.tests.functional is imported, and so does master, whose module
# patches when its patch() is called (by nova.tests.functional).
try:
    import nova.monkey_patch  # noqa
except ImportError:
    import nova.tests.functional  # noqa
else:
    if hasattr(nova.monkey_patch, 'patch'):
        import nova.tests.functional  # noqa

import collections  # noqa: E402
import inspect  # noqa: E402
import re  # noqa: E402

import scenario_run  # noqa: E402  (beside this script)
from nova.compute import instance_actions  # noqa: E402
from nova.compute import manager as compute_manager  # noqa: E402
from nova import exception  # noqa: E402
from nova.tests.functional import integrated_helpers  # noqa: E402
try:
    from nova.tests.unit import fake_notifier  # noqa: E402
except ImportError:         # master: the test case's notifier fixture
    fake_notifier = None

try:
    ProviderUsageBaseTestCase = integrated_helpers.ProviderUsageBaseTestCase
except AttributeError:      # Queens, Pike
    from nova.tests.functional import test_servers  # noqa: E402
    ProviderUsageBaseTestCase = test_servers.ProviderUsageBaseTestCase

TREE = os.getcwd()

# nova.virt declares itself a pkg_resources namespace, which appends every
# other nova on sys.path (the venv's develop install) to nova.__path__ and
# nova.virt.__path__, behind this tree. Drop those so that nothing can be
# imported from another tree, and check at the end that nothing was.


def _under_tree(path):
    root = os.path.join(TREE, 'nova')
    path = os.path.abspath(path)
    return path == root or path.startswith(root + os.sep)


def _attribute(module, name):
    # Read from the module's own namespace: some entries of sys.modules are
    # not modules (nova.tests.uuidsentinel on Rocky and older puts an object
    # there whose __getattr__ raises for names that start with _).
    return getattr(module, '__dict__', {}).get(name)


def _keep_tree_paths_only():
    for name, module in list(sys.modules.items()):
        if (name == 'nova' or name.startswith('nova.')) and \
                isinstance(_attribute(module, '__path__'), list):
            module.__path__[:] = [p for p in module.__path__
                                  if _under_tree(p)]


def _modules_from_other_trees():
    outside = []
    for name, module in sorted(sys.modules.items()):
        if module is None or not (name == 'nova' or name.startswith('nova.')):
            continue
        if _attribute(module, '__path__') is not None:
            paths = list(module.__path__)
        else:
            paths = [_attribute(module, '__file__') or TREE + '/nova']
        if not paths or not all(_under_tree(p) for p in paths):
            outside.append(name)
    return outside


_keep_tree_paths_only()

# scenario -> (method that raises, instance action event that fails)
FAILURES = {
    'fail-prep-resize': ('nova.compute.manager.ComputeManager._prep_resize',
                         'compute_prep_resize'),
    'fail-resize-instance': (
        'nova.virt.fake.FakeDriver.migrate_disk_and_power_off',
        'compute_resize_instance'),
    'fail-cast-finish': ('nova.compute.rpcapi.ComputeAPI.finish_resize',
                         'compute_resize_instance'),
    'fail-finish-resize': ('nova.virt.fake.FakeDriver.finish_migration',
                           'compute_finish_resize'),
    # The resize went through (VERIFY_RESIZE); reverting it fails.
    'fail-revert-before-destroy': (
        'nova.compute.manager.ComputeManager._is_instance_storage_shared',
        'compute_revert_resize'),
    'fail-revert-resize': ('nova.virt.fake.FakeDriver.destroy',
                           'compute_revert_resize'),
    'fail-finish-revert': (
        'nova.virt.fake.FakeDriver.finish_revert_migration',
        'compute_finish_revert_resize'),
}
REVERTS = ('fail-revert-before-destroy', 'fail-revert-resize',
           'fail-finish-revert')
SCENARIOS = tuple(sorted(FAILURES)) + ('success', 'success-migrate')
WRITES = ('PUT', 'POST', 'DELETE')
UUID = re.compile(
    r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', re.I)
REPORT_CLIENT = 'nova.scheduler.client.report.SchedulerReportClient'

# The test case hands its result here; unittest gives no other way out.
RESULT = {}


def report_clients(compute):
    """The SchedulerReportClient objects a compute service calls placement
    with, as its release builds them.

    Stein: one, made by the resource tracker (manager.rt) and shared with
    the manager. Rocky, Queens and Pike: the manager and its resource
    tracker each hold a SchedulerClient whose reportclient is a LazyLoader
    that makes the real client at its first call; it is made here, so that
    the requests, which reach the real client, can be told apart.
    """
    manager = compute.manager
    tracker = getattr(manager, 'rt', None) or manager._get_resource_tracker()
    clients = []
    for owner in (manager, tracker):
        client = owner.reportclient
        if type(client).__name__ == 'LazyLoader':
            if client.instance is None:
                client.instance = client.klass(*client.args, **client.kwargs)
            client = client.instance
        clients.append(client)
    return clients


def wait_for_notification(test, event_type):
    if fake_notifier is None:
        test.notifier.wait_for_versioned_notifications(event_type)
    elif hasattr(fake_notifier, 'wait_for_versioned_notifications'):
        fake_notifier.wait_for_versioned_notifications(event_type)
    else:                   # Pike
        fake_notifier.wait_for_versioned_notification(event_type)


def argument_names(function):
    """The names of a function's arguments (getargspec is gone in 3.11)."""
    spec = getattr(inspect, 'getfullargspec', None) or inspect.getargspec
    return spec(function).args


class PlacementRequestsBench(ProviderUsageBaseTestCase):

    compute_driver = 'fake.FakeDriver'

    def setUp(self):
        super(PlacementRequestsBench, self).setUp()
        self.recording = False
        self.requests = []      # (host, METHOD, path with {uuid})
        # The same from the other services (scheduler, conductor), only to
        # show that the window is not blind.
        self.others = []
        # Requests of the compute services' clients during the whole test
        # (boot, periodic tasks): none means the clients were not seen.
        self.seen = 0
        self.clients = {}       # id(SchedulerReportClient) -> compute host
        self._wrap_report_client()
        for host in ('host1', 'host2'):
            compute = self._start_compute(host)
            for client in report_clients(compute):
                self.clients[id(client)] = host

        flavors = {flavor['name']: flavor
                   for flavor in self.api.get_flavors()}
        self.old_flavor = flavors['m1.tiny']
        self.new_flavor = flavors['m1.small']

    def _wrap_report_client(self):
        from nova.scheduler.client import report

        def wrap(method):
            real = getattr(report.SchedulerReportClient, method.lower())

            def recorded(client, url, *args, **kwargs):
                self.seen += id(client) in self.clients
                if self.recording:
                    request = (self.clients.get(id(client), 'other'), method,
                               UUID.sub('{uuid}', url))
                    if request[0] == 'other':
                        self.others.append(request)
                    else:
                        self.requests.append(request)
                return real(client, url, *args, **kwargs)
            return recorded

        for method in ('GET', 'PUT', 'POST', 'DELETE'):
            self.stub_out('%s.%s' % (REPORT_CLIENT, method.lower()),
                          wrap(method))

    def _wait_for_migration_finished(self, server):
        if 'expected_statuses' in argument_names(
                self._wait_for_migration_status):
            self._wait_for_migration_status(server, ['finished'])
        else:       # Pike takes one status
            self._wait_for_migration_status(server, 'finished')

    def _wait_for_status(self, server, status):
        """The server once in `status`, read with the admin API (master's
        helper takes no API: it uses admin_api itself)."""
        if argument_names(self._wait_for_state_change)[1] == 'server':
            return self._wait_for_state_change(server, status)
        return self._wait_for_state_change(self.admin_api, server, status)

    def _resize(self, server):
        self.api.post_server_action(
            server['id'], {'resize': {'flavorRef': self.new_flavor['id']}})

    def _report(self, scenario, server):
        counts = collections.Counter(
            '%s %s' % (method, path) for _, method, path in self.requests)
        RESULT.update({
            'scenario': scenario,
            'tree': os.getcwd(),
            'nova_file': os.path.abspath(compute_manager.__file__),
            'modules_from_other_trees': _modules_from_other_trees(),
            'server_host': server['OS-EXT-SRV-ATTR:host'],
            'server_status': server['status'],
            'requests': dict(counts),
            'total': len(self.requests),
            'writes': sum(1 for _, method, _ in self.requests
                          if method in WRITES),
            'sequence': ['%s %s %s' % request for request in self.requests],
            'other_services': ['%s %s' % request[1:]
                               for request in self.others],
            'compute_requests_in_test': self.seen,
        })

    def _fail_at(self, scenario):
        target, event_name = FAILURES[scenario]

        def failure(*args, **kwargs):
            self.recording = True
            raise exception.VirtualInterfaceCreateException()

        server = self._boot_and_check_allocations(self.old_flavor, 'host1')
        if scenario in REVERTS:
            self._resize(server)
            server = self._wait_for_status(server, 'VERIFY_RESIZE')
            self.stub_out(target, failure)
            self.api.post_server_action(server['id'], {'revertResize': None})
            action = instance_actions.REVERT_RESIZE
        else:
            self.stub_out(target, failure)
            self._resize(server)
            action = instance_actions.RESIZE
        server = self._wait_for_status(server, 'ERROR')
        # The event is only recorded once the whole error path has run,
        # allocation handling included.
        self._wait_for_action_fail_completion(server, action, event_name)
        self.recording = False

        self._report(scenario, self.admin_api.get_server(server['id']))

    def test_fail_prep_resize(self):
        self._fail_at('fail-prep-resize')

    def test_fail_resize_instance(self):
        self._fail_at('fail-resize-instance')

    def test_fail_cast_finish(self):
        self._fail_at('fail-cast-finish')

    def test_fail_finish_resize(self):
        self._fail_at('fail-finish-resize')

    def test_fail_revert_before_destroy(self):
        self._fail_at('fail-revert-before-destroy')

    def test_fail_revert_resize(self):
        self._fail_at('fail-revert-resize')

    def test_fail_finish_revert(self):
        self._fail_at('fail-finish-revert')

    def test_success(self):
        self._succeed('success', self._resize)

    def test_success_migrate(self):
        self._succeed('success-migrate', lambda server:
                      self.admin_api.post_server_action(
                          server['id'], {'migrate': None}))

    def _succeed(self, scenario, move):
        server = self._boot_and_check_allocations(self.old_flavor, 'host1')

        self.recording = True
        move(server)
        server = self._wait_for_status(server, 'VERIFY_RESIZE')
        self._wait_for_migration_finished(server)
        wait_for_notification(self, 'instance.resize_finish.end')
        self.recording = False

        self._report(scenario, self.admin_api.get_server(server['id']))


def main(argv):
    if len(argv) != 2 or argv[1] not in SCENARIOS:
        print('usage: python %s {%s}' % (argv[0], '|'.join(SCENARIOS)),
              file=sys.stderr)
        return 2
    scenario = argv[1]
    return scenario_run.run(
        PlacementRequestsBench('test_' + scenario.replace('-', '_')), RESULT)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
