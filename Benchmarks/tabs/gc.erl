%% For `rabbitmqctl eval`: a full garbage collection of every process on the node, to see how
%% much of a tab's memory is heap left over from bursts (what hibernation would give back).
[erlang:garbage_collect(P) || P <- erlang:processes()],
io:format("garbage collected ~b processes~n", [erlang:system_info(process_count)]),
ok.
