%% For `rabbitmqctl eval` (scripts/bench-tabs --memory): the node's Erlang processes grouped by
%% what started them, with their count and memory (heap, stack, messages; not off-heap binaries),
%% the largest groups first, and the process count. An expression list, not a module.
Info = fun(P) ->
    case erlang:process_info(P, [dictionary, initial_call, memory]) of
        undefined -> [];
        [{dictionary, D}, {initial_call, I}, {memory, M}] ->
            Key = case proplists:get_value('$initial_call', D) of undefined -> I; Call -> Call end,
            [{Key, M}]
    end
end,
Groups = lists:foldl(fun({K, M}, Acc) -> maps:update_with(K, fun({C, S}) -> {C + 1, S + M} end, {1, M}, Acc) end,
                     #{}, lists:append([Info(P) || P <- erlang:processes()])),
Sorted = lists:reverse(lists:keysort(3, [{K, C, S} || {K, {C, S}} <- maps:to_list(Groups)])),
io:format("processes: ~b~n", [erlang:system_info(process_count)]),
[io:format("process_group ~p count ~b kib ~b~n", [K, C, S div 1024]) || {K, C, S} <- lists:sublist(Sorted, 20)],
ok.
